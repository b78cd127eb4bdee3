//! Two real `chorus serve` processes on one PostgreSQL database (the multinode tests; they
//! need the PostgreSQL pass and say so on the sled pass).

use super::pg;
use super::server::Server;
use chorus::store::{Backend, Store, StoreConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Nodes {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub sites: PathBuf,
    pub config: PathBuf,
    pub a: Option<Server>,
    pub b: Option<Server>,
    /// The all-sites admin token node A created.
    pub token: String,
}

/// chorus.toml for every node: the checkout's own (webhooks may reach 127.0.0.1), a generous
/// rule deadline, and `extra`.
fn write_config(dir: &Path, extra: &str) -> PathBuf {
    let own = std::fs::read_to_string(super::repo().join("chorus.toml")).unwrap_or_default();
    let path = dir.join("chorus.toml");
    std::fs::write(&path, format!("{own}\nrule_deadline_ms = 2000\n{extra}\n")).unwrap();
    path
}

impl Nodes {
    /// Two nodes with the repository's demo site and no extra configuration.
    pub fn demo(test: &str) -> Option<Nodes> {
        Nodes::start(test, &super::repo().join("sites"), "", &[])
    }

    /// Starts node A, then node B, on one fresh database; None on the sled pass.
    pub fn start(
        test: &str,
        sites: &Path,
        extra_config: &str,
        envs: &[(&str, &str)],
    ) -> Option<Nodes> {
        if pg::skip_unless_postgres(test) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let url = pg::store_for(&dir.path().join("shared")).unwrap();
        let config = write_config(dir.path(), extra_config);
        let mut nodes = Nodes {
            url,
            sites: sites.to_path_buf(),
            config,
            a: None,
            b: None,
            token: String::new(),
            dir,
        };
        nodes.a = Some(nodes.node("a", envs));
        nodes.token = std::fs::read_to_string(nodes.dir.path().join("a/initial-admin-token"))
            .unwrap()
            .trim()
            .to_string();
        nodes.b = Some(nodes.node("b", envs));
        Some(nodes)
    }

    /// Starts one more node on the database (its own data folder `name`, for the token file).
    pub fn node(&self, name: &str, envs: &[(&str, &str)]) -> Server {
        self.node_on(name, &self.sites, envs)
    }

    /// As `node`, with a sites folder of its own.
    pub fn node_on(&self, name: &str, sites: &Path, envs: &[(&str, &str)]) -> Server {
        let mut all: Vec<(&str, &str)> = vec![("CHORUS_STORE", self.url.as_str())];
        all.extend_from_slice(envs);
        Server::start_opts(
            &self.dir.path().join(name),
            sites,
            &["--config", self.config.to_str().unwrap()],
            &all,
        )
    }

    pub fn a(&self) -> &Server {
        self.a.as_ref().unwrap()
    }

    pub fn b(&self) -> &Server {
        self.b.as_ref().unwrap()
    }

    /// Runs `f` with the shared store opened in this process.
    pub fn with_store<T>(&self, f: impl AsyncFnOnce(Arc<dyn Store>) -> T) -> T {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = chorus::store::open(&StoreConfig {
                backend: Backend::Postgres {
                    url: self.url.clone(),
                    pool_size: 4,
                },
                threads: 1,
            })
            .await
            .unwrap();
            f(store).await
        })
    }
}

/// Polls `check` until it holds or `within` passes; returns how long it took.
pub fn within(within: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if check() {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The demo provider survey's answers (the demo rules tag it and open a task).
pub fn provider_answers() -> serde_json::Value {
    serde_json::json!({
        "role": "physician", "offer_to": "some", "when_best": "check_out",
        "who_should": "nurse_ma", "help_available": "no"
    })
}

pub fn submit(
    client: &reqwest::blocking::Client,
    base: &str,
    body: &serde_json::Value,
) -> reqwest::blocking::Response {
    client
        .post(format!(
            "{base}/api/v1/sites/demo-clinic/surveys/provider-enrollment/responses"
        ))
        .json(body)
        .send()
        .unwrap()
}
