//! Interface strings of the respondent pages (buttons, errors, thank-you), one table per
//! language. Survey texts come from the survey file; these are the words around them.

use serde::Serialize;

/// Placeholders in braces (`{question}`) are filled in by the view.
#[derive(Debug, Serialize)]
pub struct Ui {
    pub required: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub submit: &'static str,
    pub sending: &'static str,
    pub error_title_prefix: &'static str,
    pub error_summary_title: &'static str,
    pub error_prefix: &'static str,
    pub choose_one: &'static str,
    pub choose_some: &'static str,
    pub write_answer: &'static str,
    pub enter_number: &'static str,
    /// `{question}`, `{value}`: why a question may not apply (shown when JavaScript is off).
    pub only_if_equals: &'static str,
    pub only_if_not_equals: &'static str,
    pub only_if_any_of: &'static str,
    pub or: &'static str,
    /// `{n}`, `{label}`: what one end of a scale means.
    pub scale_end: &'static str,
    /// `{min}`, `{max}`.
    pub number_range: &'static str,
    pub number_at_least: &'static str,
    pub number_at_most: &'static str,
    pub not_whole_number: &'static str,
    /// `{min}`, `{max}`.
    pub number_out_of_range: &'static str,
    pub number_too_small: &'static str,
    pub number_too_large: &'static str,
    /// `{n}` the limit, `{len}` the length sent.
    pub text_too_long: &'static str,
    pub thanks_title: &'static str,
    pub thanks_body: &'static str,
    pub thanks_close: &'static str,
    pub surveys_title: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub bad_request_title: &'static str,
    pub bad_request_body: &'static str,
    pub too_large_title: &'static str,
    pub too_large_body: &'static str,
    pub unavailable_title: &'static str,
    pub unavailable_body: &'static str,
    pub server_error_title: &'static str,
    pub server_error_body: &'static str,
}

pub const EN: Ui = Ui {
    required: "required",
    yes: "Yes",
    no: "No",
    submit: "Send my answers",
    sending: "Sending…",
    error_title_prefix: "Error: ",
    error_summary_title: "There is a problem with your answers",
    error_prefix: "Error:",
    choose_one: "Please choose an answer.",
    choose_some: "Please choose at least one answer.",
    write_answer: "Please write an answer.",
    enter_number: "Please enter a number.",
    only_if_equals: "Answer this only if your answer to “{question}” was “{value}”.",
    only_if_not_equals: "Answer this only if your answer to “{question}” was not “{value}”.",
    only_if_any_of: "Answer this only if your answer to “{question}” was {value}.",
    or: "or",
    scale_end: "{n} means “{label}”",
    number_range: "A whole number from {min} to {max}.",
    number_at_least: "A whole number, {min} or more.",
    number_at_most: "A whole number, {max} or less.",
    not_whole_number: "Please enter a whole number, like 3.",
    number_out_of_range: "Please enter a whole number from {min} to {max}.",
    number_too_small: "Please enter a whole number, {min} or more.",
    number_too_large: "Please enter a whole number, {max} or less.",
    text_too_long: "Please shorten your answer to {n} characters or fewer (it has {len}).",
    thanks_title: "Thank you",
    thanks_body: "Your answers have been saved. Thank you for taking the time to help us improve.",
    thanks_close: "You can close this page now.",
    surveys_title: "Surveys",
    not_found_title: "We could not find this survey",
    not_found_body: "The link may be mistyped or the survey may have ended. Please check the link, or ask the clinic staff for the right one.",
    bad_request_title: "We could not read your answers",
    bad_request_body: "Something went wrong while your answers were being sent. Please go back and press the send button again.",
    too_large_title: "Your answers are too long",
    too_large_body: "Please go back, shorten your longest answers and send them again.",
    unavailable_title: "We could not save your answers just now",
    unavailable_body: "Please wait a minute, then go back and press the send button again. You will not be counted twice.",
    server_error_title: "Something went wrong on our side",
    server_error_body: "Please try again in a few minutes.",
};

/// The interface strings for a language; English until more tables exist.
pub fn for_language(_lang: &str) -> &'static Ui {
    &EN
}
