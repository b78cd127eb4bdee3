//! Languages of the respondent pages: `?lang=`, then Accept-Language, then the site default;
//! `<html lang>`, the language switch, translated interface strings, the language recorded
//! with the response (answers stored as option values), and translations checked at load.

mod common;

use actix_web::http::{header, StatusCode};
use actix_web::test;
use chorus::create_app;
use chorus::response::StoredResponse;
use chorus::survey::AnswerValue;

const PATIENT: &str = "/s/demo-clinic/patient-enrollment";

fn stored(state: &chorus::AppState) -> Vec<StoredResponse> {
    common::stored_responses(state, "demo-clinic")
}

async fn get<B: actix_web::body::MessageBody>(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    uri: &str,
    accept_language: Option<&str>,
) -> (StatusCode, String, actix_web::http::header::HeaderMap) {
    let mut req = test::TestRequest::get().uri(uri);
    if let Some(al) = accept_language {
        req = req.insert_header((header::ACCEPT_LANGUAGE, al));
    }
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    // tera writes `/` as `&#x2F;` in attributes; browsers read both the same.
    let body = String::from_utf8(test::read_body(res).await.to_vec())
        .unwrap()
        .replace("&#x2F;", "/");
    (status, body, headers)
}

fn form_post(uri: &str, fields: &[(&str, &str)]) -> actix_http::Request {
    test::TestRequest::post()
        .uri(uri)
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(serde_urlencoded::to_string(fields).unwrap())
        .to_request()
}

#[actix_web::test]
async fn lang_query_then_accept_language_then_site_default() {
    let t = common::demo_state();
    let app = test::init_service(create_app(t.state.clone())).await;

    let (status, html, headers) = get(&app, &format!("{PATIENT}?lang=es"), Some("en")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"es\">"));
    assert!(html.contains("<h1>Cómo inscribirse en el portal del paciente</h1>"));
    assert!(html.contains("Antes de hoy, ¿había oído hablar del portal del paciente?"));
    assert!(html.contains(">Sí</label>"));
    assert!(html.contains("(obligatoria)"));
    assert!(html.contains(">Enviar mis respuestas</button>"));
    assert!(html.contains("<input type=\"hidden\" name=\"_lang\" value=\"es\">"));
    // Option labels are translated; values stay the same.
    assert!(html.contains("value=\"error\""));
    assert!(html.contains("La página web o la aplicación mostró un error"));
    // The switch offers English, in English.
    assert!(html.contains(
        "<a href=\"/s/demo-clinic/patient-enrollment?lang=en\" lang=\"en\" hreflang=\"en\">English</a>"
    ));
    assert!(html.contains("<nav class=\"langs\" aria-label=\"Idioma\">"));
    assert_eq!(headers.get(header::VARY).unwrap(), "Accept-Language");

    let (_, html, _) = get(&app, PATIENT, Some("es-MX,es;q=0.9,en;q=0.8")).await;
    assert!(html.contains("<html lang=\"es\">"));
    let (_, html, _) = get(&app, PATIENT, Some("fr-CA, en;q=0.5, es;q=0.4")).await;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("<a href=\"/s/demo-clinic/patient-enrollment?lang=es\" lang=\"es\" hreflang=\"es\">Español</a>"));
    let (_, html, _) = get(&app, PATIENT, Some("es;q=0, fr")).await;
    assert!(html.contains("<html lang=\"en\">"));
    let (_, html, _) = get(&app, PATIENT, None).await;
    assert!(html.contains("<html lang=\"en\">"));
    // ?lang= beats the browser.
    let (_, html, _) = get(&app, &format!("{PATIENT}?lang=en"), Some("es")).await;
    assert!(html.contains("<html lang=\"en\">"));
}

#[actix_web::test]
async fn a_survey_without_translations_stays_in_its_language_with_no_switch() {
    let t = common::demo_state();
    let app = test::init_service(create_app(t.state.clone())).await;
    let (status, html, _) = get(
        &app,
        "/s/demo-clinic/provider-enrollment?lang=es",
        Some("es"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"en\">"));
    assert!(!html.contains("class=\"langs\""));
    assert!(html.contains(">Send my answers</button>"));
}

#[actix_web::test]
async fn a_spanish_submission_records_its_language_and_option_values() {
    let t = common::demo_state();
    let app = test::init_service(create_app(t.state.clone())).await;
    let fields = [
        ("_submission_id", "0191c3a2-7b7e-4c39-9a55-6f0f3b7a0e01"),
        ("_lang", "es"),
        ("aware", "yes"),
        ("tried", "yes"),
        ("enrolled", "no"),
        ("what_happened", "error"),
        ("what_happened", "no_help"),
        ("contact_ok", "no"),
    ];
    let res = test::call_service(&app, form_post(PATIENT, &fields)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers().get(header::LOCATION).unwrap(),
        "/s/demo-clinic/patient-enrollment/thanks?lang=es"
    );
    let all = stored(&t.state);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].language.as_deref(), Some("es"));
    assert_eq!(all[0].answers["aware"], AnswerValue::Text("yes".into()));
    assert_eq!(
        all[0].answers["what_happened"],
        AnswerValue::Choices(vec!["error".into(), "no_help".into()])
    );

    let (status, html, _) = get(
        &app,
        "/s/demo-clinic/patient-enrollment/thanks?lang=es",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"es\">"));
    assert!(html.contains("<h1>Muchas gracias</h1>"));
    assert!(html.contains("Hemos guardado sus respuestas."));

    // An English submission records English.
    let fields = [
        ("aware", "no"),
        ("tried", "no"),
        ("contact_ok", "no"),
        ("_lang", "en"),
    ];
    let res = test::call_service(&app, form_post(PATIENT, &fields)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers().get(header::LOCATION).unwrap(),
        "/s/demo-clinic/patient-enrollment/thanks"
    );
    let all = stored(&t.state);
    assert_eq!(all[1].language.as_deref(), Some("en"));
}

#[actix_web::test]
async fn spanish_errors_keep_the_answers_and_the_language() {
    let t = common::demo_state();
    let app = test::init_service(create_app(t.state.clone())).await;
    let fields = [("_lang", "es"), ("aware", "yes")];
    let res = test::call_service(&app, form_post(PATIENT, &fields)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(html.contains("<html lang=\"es\">"));
    assert!(html.contains("<title>Error: Cómo inscribirse en el portal del paciente</title>"));
    assert!(html.contains("Hay un problema con sus respuestas"));
    assert!(html.contains(
        "<a href=\"#q-tried\">¿Alguna vez ha intentado inscribirse en el portal del paciente? Por favor, elija una respuesta.</a>"
    ));
    assert!(html.contains("id=\"q-aware\" value=\"yes\" checked"));
    assert!(stored(&t.state).is_empty());
}

#[actix_web::test]
async fn error_pages_follow_the_browser_language() {
    let t = common::demo_state();
    let app = test::init_service(create_app(t.state.clone())).await;
    let (status, html, _) = get(&app, "/s/demo-clinic/no-such-survey", Some("es-ES")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("<html lang=\"es\">"));
    assert!(html.contains("<h1>No encontramos esta encuesta</h1>"));
    let (status, html, _) = get(&app, "/s/no-such-site/x?lang=es", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("<h1>No encontramos esta encuesta</h1>"));
    // The site page lists the surveys in the chosen language and links keep it.
    let (_, html, _) = get(&app, "/s/demo-clinic?lang=es", None).await;
    assert!(html.contains("<h1>Encuestas</h1>"));
    assert!(html.contains(
        "<a href=\"/s/demo-clinic/patient-enrollment?lang=es\">Cómo inscribirse en el portal del paciente</a>"
    ));
    // A survey not translated keeps its language, and says so to screen readers.
    assert!(html.contains(
        "<a href=\"/s/demo-clinic/provider-enrollment\" lang=\"en\">Patient portal enrollment: the care team&#x27;s view</a>"
    ));
}

/// A copy of the demo site with the patient survey's Spanish table edited.
fn site_with_translation(extra: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("demo-clinic");
    std::fs::create_dir_all(site.join("surveys")).unwrap();
    let demo = common::repo().join("sites/demo-clinic");
    std::fs::copy(demo.join("site.toml"), site.join("site.toml")).unwrap();
    let survey = std::fs::read_to_string(demo.join("surveys/patient-enrollment.toml")).unwrap();
    let file = site.join("surveys/patient-enrollment.toml");
    std::fs::write(&file, format!("{survey}\n{extra}")).unwrap();
    (dir, file)
}

#[actix_web::test]
async fn translations_of_unknown_questions_or_options_are_located_errors() {
    let (dir, file) = site_with_translation(
        "[translations.es.questions.tried.options]\nmaybe = \"Quizás\"\n\n\
         [translations.es.questions.nope]\ntext = \"¿?\"\n\n\
         [translations.pt.questions.why_not.options]\nno_car = \"Não tenho carro\"\n\n\
         [translations.EN_us]\ntitle = \"x\"\n",
    );
    let errors = chorus::survey::load_site(&dir.path().join("demo-clinic")).unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let source = std::fs::read_to_string(&file).unwrap();
    let line_of = |needle: &str| source.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let expect = [
        (
            line_of("maybe = "),
            "question \"tried\" has no options to translate (\"maybe\")",
        ),
        (
            line_of("[translations.es.questions.nope]"),
            "translation for unknown question \"nope\"",
        ),
        (
            line_of("no_car = "),
            "question \"why_not\" has no option \"no_car\" (its options: didnt_know, no_device, no_one_showed, not_useful, privacy, prefer_person)",
        ),
        (
            line_of("[translations.EN_us]"),
            "\"EN_us\" is not a language tag like \"es\" or \"pt-BR\"",
        ),
    ];
    for (line, message) in expect {
        let wanted = format!("{}:{line}:", file.display());
        assert!(
            text.iter()
                .any(|t| t.starts_with(&wanted) && t.ends_with(message)),
            "expected {wanted}…{message} in {text:#?}"
        );
    }
    assert_eq!(text.len(), 4, "{text:#?}");
}

#[actix_web::test]
async fn the_demo_patient_survey_translates_every_text_into_spanish() {
    let site = chorus::survey::load_site(&common::repo().join("sites/demo-clinic")).unwrap();
    let survey = site.survey("patient-enrollment").unwrap();
    let es = &survey.translations["es"];
    assert!(es.title.is_some() && es.intro.is_some());
    for q in &survey.questions {
        let t = es
            .questions
            .get(&q.id)
            .unwrap_or_else(|| panic!("{} in Spanish", q.id));
        assert!(t.text.is_some(), "{}", q.id);
        assert_eq!(t.help.is_some(), q.help.is_some(), "{} help", q.id);
        for o in &q.options {
            assert!(t.options.contains_key(&o.value), "{}.{}", q.id, o.value);
        }
    }
}
