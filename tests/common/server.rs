//! The real `chorus` binary, started on a free port for black-box tests.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chorus"))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A chorus subcommand with the repo's demo site and the given data dir.
pub fn command(args: &[&str], data: &Path) -> Command {
    command_with_sites(args, data, &super::repo().join("sites"))
}

fn command_with_sites(args: &[&str], data: &Path, sites: &Path) -> Command {
    let mut c = Command::new(bin());
    c.args(args)
        .arg("--data")
        .arg(data)
        .arg("--sites")
        .arg(sites)
        .arg("--plugins")
        .arg(super::repo().join("plugins"))
        .envs(super::pg::env_for(data))
        .env("CHORUS_LOG", "warn");
    c
}

/// Runs a chorus subcommand to completion with the repo's demo site and the given data dir.
pub fn run(args: &[&str], data: &Path) -> Output {
    command(args, data)
        .stdin(Stdio::null())
        .output()
        .expect("run chorus")
}

/// As `run`, with another sites folder.
pub fn run_with_sites(args: &[&str], data: &Path, sites: &Path) -> Output {
    command_with_sites(args, data, sites)
        .stdin(Stdio::null())
        .output()
        .expect("run chorus")
}

/// `chorus serve` on a port, with the repo's plugins and templates (not started yet).
pub fn serve_command(data: &Path, sites: &Path, port: u16) -> Command {
    let bind = format!("127.0.0.1:{port}");
    let templates = super::repo().join("templates");
    let templates = templates.to_str().expect("a UTF-8 path");
    command_with_sites(
        &["serve", "--bind", &bind, "--templates", templates],
        data,
        sites,
    )
}

/// `chorus check` on a sites and a plugins folder.
pub fn check(sites: &Path, plugins: &Path) -> Output {
    Command::new(bin())
        .arg("check")
        .arg("--sites")
        .arg(sites)
        .arg("--plugins")
        .arg(plugins)
        .env("CHORUS_LOG", "warn")
        .output()
        .expect("run chorus check")
}

/// `GET base + path` with a bearer token, as JSON.
pub fn get_json(base: &str, path: &str, token: &str) -> serde_json::Value {
    reqwest::blocking::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token.trim())
        .send()
        .unwrap()
        .json()
        .unwrap()
}

pub struct Server {
    pub child: Child,
    pub base: String,
    pub data: PathBuf,
}

impl Server {
    /// Starts `chorus serve` on the demo site and waits until /healthz answers.
    pub fn start(data: &Path) -> Server {
        Server::start_with(data, &[])
    }

    /// As `start`, with extra `serve` arguments (e.g. `--config FILE`).
    pub fn start_with(data: &Path, extra: &[&str]) -> Server {
        Server::start_opts(data, &super::repo().join("sites"), extra, &[])
    }

    /// As `start`, with another sites folder, extra arguments and environment variables.
    /// Without a `--config` of the test's own, the per-hook deadline is generous: these tests
    /// are not about it, and a loaded machine must not fail them.
    pub fn start_opts(data: &Path, sites: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Server {
        Server::start_logging(data, sites, extra, envs, Stdio::null())
    }

    /// As `start_opts`, with the server's log (its standard error) going to `log`.
    pub fn start_logging(
        data: &Path,
        sites: &Path,
        extra: &[&str],
        envs: &[(&str, &str)],
        log: Stdio,
    ) -> Server {
        let port = free_port();
        let config = data.with_extension("chorus.toml");
        let mut extra: Vec<&str> = extra.to_vec();
        if !extra.contains(&"--config") {
            // The checkout's own chorus.toml (which lets the demo's webhooks reach 127.0.0.1),
            // with the longer deadline.
            let own =
                std::fs::read_to_string(super::repo().join("chorus.toml")).unwrap_or_default();
            std::fs::write(&config, format!("{own}\nrule_deadline_ms = 2000\n"))
                .expect("write the test config");
            extra.extend(["--config", config.to_str().expect("a UTF-8 path")]);
        }
        let child = serve_command(data, sites, port)
            .args(&extra)
            .envs(super::pg::env_for(data))
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start chorus serve");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data: data.to_path_buf(),
        };
        let client = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if client
                .get(format!("{}/healthz", server.base))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                return server;
            }
            assert!(Instant::now() < deadline, "server did not become healthy");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        self.child.wait().expect("reap")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
