//! Interface strings of the kiosk pages (start screen, idle warning, thank-you, enrolment),
//! one table per language, apart from the form's own strings (`strings`).

use serde::Serialize;

/// Placeholders in braces (`{n}`) are filled in by the template.
#[derive(Debug, Serialize)]
pub struct KioskUi {
    pub start_body: &'static str,
    pub start_private: &'static str,
    pub start: &'static str,
    pub larger_text: &'static str,
    pub start_over: &'static str,
    /// `{n}`: seconds until the start screen.
    pub thanks_next: &'static str,
    pub back_to_start: &'static str,
    pub idle_title: &'static str,
    /// `{n}`: seconds until the form is cleared.
    pub idle_body: &'static str,
    pub idle_continue: &'static str,
    pub enrol_title: &'static str,
    /// `{name}`, `{survey}`.
    pub enrol_body: &'static str,
    pub enrol_button: &'static str,
    pub enrol_invalid_title: &'static str,
    pub enrol_invalid_body: &'static str,
}

pub const EN: KioskUi = KioskUi {
    start_body: "A few short questions about the patient portal. It takes about two minutes.",
    start_private: "Your answers are private. When you finish, this screen is cleared for the next person.",
    start: "Start",
    larger_text: "Larger text",
    start_over: "Start over and clear my answers",
    thanks_next: "This screen goes back to the start in {n} seconds.",
    back_to_start: "Back to the start now",
    idle_title: "Are you still there?",
    idle_body: "To keep your answers private, this form will be cleared in {n} seconds.",
    idle_continue: "Continue",
    enrol_title: "Set up this tablet as a kiosk",
    enrol_body: "This tablet will show the survey “{survey}” as the kiosk “{name}”. It stays set up until a site admin revokes it.",
    enrol_button: "Set up this tablet",
    enrol_invalid_title: "This set-up link cannot be used",
    enrol_invalid_body: "It was already used, or the kiosk was revoked. Ask a site admin for a new kiosk link.",
};

pub const ES: KioskUi = KioskUi {
    start_body: "Unas preguntas cortas sobre el portal del paciente. Toma unos dos minutos.",
    start_private: "Sus respuestas son privadas. Al terminar, esta pantalla se borra para la siguiente persona.",
    start: "Empezar",
    larger_text: "Letra más grande",
    start_over: "Empezar de nuevo y borrar mis respuestas",
    thanks_next: "Esta pantalla vuelve al inicio en {n} segundos.",
    back_to_start: "Volver al inicio ahora",
    idle_title: "¿Sigue ahí?",
    idle_body: "Para proteger sus respuestas, este formulario se borrará en {n} segundos.",
    idle_continue: "Continuar",
    enrol_title: "Preparar esta tableta como quiosco",
    enrol_body: "Esta tableta mostrará la encuesta «{survey}» como el quiosco «{name}». Seguirá así hasta que un administrador lo revoque.",
    enrol_button: "Preparar esta tableta",
    enrol_invalid_title: "Este enlace de preparación no sirve",
    enrol_invalid_body: "Ya se usó o el quiosco fue revocado. Pida un enlace nuevo a un administrador.",
};

pub fn for_language(lang: &str) -> &'static KioskUi {
    match lang {
        "es" => &ES,
        _ => &EN,
    }
}
