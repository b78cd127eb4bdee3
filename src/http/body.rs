//! Request bodies read with a size limit and a deadline (actix's client_request_timeout covers
//! only the headers), decoded with errors that say what was wrong.

use super::error::ApiError;
use crate::app::AppState;
use crate::services::ServiceError;
use actix_web::dev::Payload;
use actix_web::web::{Bytes, BytesMut, Data};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::future::Future;
use std::pin::Pin;

async fn read_limited(req: &HttpRequest, payload: &mut Payload) -> Result<Bytes, ApiError> {
    let state = req
        .app_data::<Data<AppState>>()
        .ok_or(ApiError::Service(ServiceError::Unavailable))?;
    let limit = state.config.max_body_bytes;
    let timeout = state.config.body_timeout;
    if let Some(len) = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
    }
    let read = async {
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::invalid_body(e.to_string(), None))?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| ApiError::BodyTimeout)?
}

/// A JSON body (`Content-Type: application/json`).
pub struct JsonBody<T>(pub T);

/// A FHIR resource in JSON (`Content-Type: application/fhir+json`, or `application/json`).
pub struct FhirBody<T>(pub T);

/// Reads and decodes a JSON body whose Content-Type is one of `accepted` (the first is named
/// in the error).
fn json_body<T: DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    accepted: &'static [&'static str],
) -> Pin<Box<dyn Future<Output = Result<T, ApiError>>>> {
    let req = req.clone();
    let mut payload = payload.take();
    Box::pin(async move {
        if !accepted.contains(&req.content_type()) {
            return Err(ApiError::UnsupportedMediaType(accepted[0]));
        }
        let bytes = read_limited(&req, &mut payload).await?;
        decode_json(&bytes)
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = json_body(req, payload, &["application/json"]);
        Box::pin(async move { body.await.map(JsonBody) })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for FhirBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let accepted = &[crate::fhir::rest::FHIR_JSON, "application/json"];
        let body = json_body(req, payload, accepted);
        Box::pin(async move { body.await.map(FhirBody) })
    }
}

/// A JSON body decoded, with the error saying whether it was not JSON or not the shape.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        if e.classify() == serde_json::error::Category::Data {
            ApiError::invalid_body(e.to_string(), None)
        } else {
            ApiError::MalformedJson(e.to_string())
        }
    })
}

/// A form body's fields in order, repeats kept.
pub fn decode_form(bytes: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
        .map_err(|e| ApiError::invalid_body(e.to_string(), None))
}

/// A form body (`application/x-www-form-urlencoded`) as its fields in order, repeats kept.
pub struct FormFields(pub Vec<(String, String)>);

impl FromRequest for FormFields {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if req.content_type() != "application/x-www-form-urlencoded" {
                return Err(ApiError::UnsupportedMediaType(
                    "application/x-www-form-urlencoded",
                ));
            }
            let bytes = read_limited(&req, &mut payload).await?;
            decode_form(&bytes).map(FormFields)
        })
    }
}

/// A JSON whole number also when written with a fraction of zero (`5.0`): JSON Schema calls
/// that an integer, so a client generated from the OpenAPI document may send it.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = f64::deserialize(d)?;
    if n.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&n) {
        return Err(serde::de::Error::custom(format!(
            "{n} is not a whole number from 0 to {}",
            u32::MAX
        )));
    }
    Ok(n as u32)
}

/// As `whole_number`, for an optional field.
pub fn optional_whole_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "whole_number")] u32);
    Ok(Option::<Wrapped>::deserialize(d)?.map(|w| w.0))
}
