//! Static files for the respondent pages (`templates/static/`), read once at startup and served
//! from memory under `/static/{name}` with a content hash for cache busting.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::Path;

/// Files every page links to: the server refuses to start without them.
const REQUIRED: &[&str] = &["chorus.css", "chorus.js"];

struct Asset {
    content_type: &'static str,
    body: Bytes,
    /// First 16 hex digits of the SHA-256 of the body: the `?v=` of its URL and its ETag.
    version: String,
}

pub struct StaticAssets {
    files: BTreeMap<String, Asset>,
}

fn content_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1;
    Some(match ext {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

impl StaticAssets {
    /// Reads every file of `dir` (no subfolders); a missing required file, an unreadable file or
    /// a file of unknown type is an error naming the file.
    pub fn load(dir: &Path) -> Result<StaticAssets, String> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read static files in {}: {e}", dir.display()))?;
        let mut files = BTreeMap::new();
        for entry in entries {
            let path = entry
                .map_err(|e| format!("cannot read static files in {}: {e}", dir.display()))?
                .path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name.starts_with('.') || !path.is_file() {
                continue;
            }
            let content_type = content_type(name).ok_or_else(|| {
                format!(
                    "{}: unknown static file type (css, js, svg, png, ico, txt)",
                    path.display()
                )
            })?;
            let body =
                std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let version = hex::encode(&sha2::Sha256::digest(&body)[..8]);
            files.insert(
                name.to_string(),
                Asset {
                    content_type,
                    body: Bytes::from(body),
                    version,
                },
            );
        }
        for name in REQUIRED {
            if !files.contains_key(*name) {
                return Err(format!("missing static file {}", dir.join(name).display()));
            }
        }
        Ok(StaticAssets { files })
    }

    /// The URL of a file, versioned by its content (`/static/chorus.css?v=…`).
    pub fn url(&self, name: &str) -> String {
        match self.files.get(name) {
            Some(a) => format!("/static/{name}?v={}", a.version),
            None => format!("/static/{name}"),
        }
    }

    /// The file as an HTTP answer: a URL carrying the current version is cached for a year,
    /// any other for five minutes; `If-None-Match` with the current ETag gets 304.
    pub fn respond(
        &self,
        name: &str,
        version: Option<&str>,
        if_none_match: Option<&str>,
    ) -> HttpResponse {
        let Some(asset) = self.files.get(name) else {
            return HttpResponse::NotFound()
                .content_type("text/plain; charset=utf-8")
                .body("not found");
        };
        let etag = format!("\"{}\"", asset.version);
        let cache = if version == Some(asset.version.as_str()) {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=300"
        };
        let matches = if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
        let mut res = if matches {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        res.insert_header((header::CACHE_CONTROL, cache))
            .insert_header((header::ETAG, etag));
        if matches {
            res.finish()
        } else {
            res.content_type(asset.content_type)
                .body(asset.body.clone())
        }
    }
}
