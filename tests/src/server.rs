//! Starts the real `partita` binary for a test and stops it when the test ends.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The binary under test: `$PARTITA_BIN`, or the release build in the workspace.
pub fn partita_binary() -> PathBuf {
    let path = std::env::var_os("PARTITA_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target/release/partita"));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --release -p partita-server` first (scripts/test.sh does)",
        path.display()
    );
    path
}

/// A running `partita serve` with its own data directory, on ports the OS picked.
pub struct Server {
    child: Child,
    /// What the server logged (stderr), line by line; also echoed to the test's stderr.
    log: Arc<Mutex<Vec<String>>>,
    pub kafka_addr: String,
    pub http_url: String,
    pub data_dir: PathBuf,
}

impl Server {
    pub fn start() -> Server {
        let data_dir =
            std::env::temp_dir().join(format!("partita-test-{}-{}", std::process::id(), unique()));
        Server::start_in(data_dir)
    }

    /// Starts a server with extra `partita serve` flags.
    pub fn start_with(extra_args: &[&str]) -> Server {
        let data_dir =
            std::env::temp_dir().join(format!("partita-test-{}-{}", std::process::id(), unique()));
        Server::spawn(data_dir, extra_args)
    }

    /// Starts a server on an existing data directory (a restart keeps what is there).
    pub fn start_in(data_dir: PathBuf) -> Server {
        Server::spawn(data_dir, &[])
    }

    /// Starts another build of `partita` than [`partita_binary`] (a benchmark's baseline).
    pub fn start_binary(binary: &std::path::Path, extra_args: &[&str]) -> Server {
        let data_dir =
            std::env::temp_dir().join(format!("partita-test-{}-{}", std::process::id(), unique()));
        Server::spawn_binary(binary, data_dir, extra_args)
    }

    fn spawn(data_dir: PathBuf, extra_args: &[&str]) -> Server {
        Server::spawn_binary(&partita_binary(), data_dir, extra_args)
    }

    fn spawn_binary(binary: &std::path::Path, data_dir: PathBuf, extra_args: &[&str]) -> Server {
        let mut child = Command::new(binary)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--http",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(&data_dir)
            .args(extra_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("partita starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let log_writer = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                log_writer.lock().unwrap().push(line);
            }
        });
        let stdout = child.stdout.take().expect("stdout is piped");
        let (lines_tx, lines_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (mut kafka_addr, mut http_url) = (None, None);
        while kafka_addr.is_none() || http_url.is_none() {
            let line = lines_rx
                .recv_timeout(START_TIMEOUT)
                .expect("partita serve prints its addresses within 30 s");
            if let Some(addr) = line.strip_prefix("partita: kafka listening on ") {
                kafka_addr = Some(addr.trim().to_string());
            }
            if let Some(url) = line.strip_prefix("partita: http listening on ") {
                http_url = Some(url.trim().to_string());
            }
        }
        Server {
            child,
            log,
            kafka_addr: kafka_addr.unwrap(),
            http_url: http_url.unwrap(),
            data_dir,
        }
    }

    /// The server's process id (to read `/proc/PID/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The lines the server logged so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait works").is_none()
    }

    /// SIGTERM, then waits for a clean exit and returns whether it exited with status 0.
    pub fn stop(mut self) -> bool {
        self.terminate()
    }

    fn terminate(&mut self) -> bool {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().expect("try_wait works") {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.is_running() {
            self.terminate();
        }
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
