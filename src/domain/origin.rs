//! Where a task, a delivery or a rule error came from: a stored response, or a run of the
//! site's `review` hooks (which look at the whole report, not at one response).
//!
//! In JSON an origin is the fields `response_id`, `survey` and `origin` of the record it
//! belongs to. A review's `response_id` is the nil UUID and its `survey` empty, as before
//! `origin` existed, so older readers and older stored records keep working.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "OriginFields", into = "OriginFields")]
pub enum Origin {
    Response { id: Uuid, survey: String },
    Review,
}

impl Origin {
    pub fn is_review(&self) -> bool {
        matches!(self, Origin::Review)
    }

    /// The response it came from, if any.
    pub fn response_id(&self) -> Option<Uuid> {
        match self {
            Origin::Response { id, .. } => Some(*id),
            Origin::Review => None,
        }
    }

    pub fn kind(&self) -> OriginKind {
        match self {
            Origin::Response { .. } => OriginKind::Response,
            Origin::Review => OriginKind::Review,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OriginKind {
    Response,
    Review,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
struct OriginFields {
    response_id: Uuid,
    #[serde(default)]
    survey: String,
    /// Always written; records stored before it existed lack it.
    #[serde(default)]
    #[schema(required = true)]
    origin: Option<OriginKind>,
}

impl From<OriginFields> for Origin {
    fn from(f: OriginFields) -> Origin {
        match f.origin {
            Some(OriginKind::Review) => Origin::Review,
            // Records written before `origin` existed marked a review by the nil id.
            None if f.response_id.is_nil() => Origin::Review,
            _ => Origin::Response {
                id: f.response_id,
                survey: f.survey,
            },
        }
    }
}

impl From<Origin> for OriginFields {
    fn from(o: Origin) -> OriginFields {
        match o {
            Origin::Response { id, survey } => OriginFields {
                response_id: id,
                survey,
                origin: Some(OriginKind::Response),
            },
            Origin::Review => OriginFields {
                response_id: Uuid::nil(),
                survey: String::new(),
                origin: Some(OriginKind::Review),
            },
        }
    }
}

/// In JSON an origin is its `OriginFields` (see the module comment).
impl utoipa::PartialSchema for Origin {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <OriginFields as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for Origin {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <OriginFields as utoipa::ToSchema>::schemas(schemas);
    }
}
