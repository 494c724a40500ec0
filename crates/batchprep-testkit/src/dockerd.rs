//! A private Moby daemon (Debian's `docker.io` `dockerd`) for integration tests: the real engine as
//! the oracle, with its own data root, exec root, socket and pid file under one directory, so it
//! never touches the host's Docker (or its `/etc/docker/daemon.json`).
//!
//! ```no_run
//! use batchprep_testkit::dockerd::{Dockerd, DockerdOptions, NetNs};
//! // One daemon for the whole test binary (no bridge, no iptables): the cheap default.
//! let d = Dockerd::shared();
//! d.build_dockerfile("app:1", "FROM scratch\nCOPY busybox /bin/sh\n", &[("busybox", std::fs::read("/bin/busybox").unwrap(), 0o755)]);
//! let id = d.docker(&["image", "inspect", "-f", "{{.Id}}", "app:1"]);
//! // A daemon of its own, with docker0, inside a network namespace made for the test.
//! let ns = NetNs::new();
//! ns.run(&["ip", "addr", "add", "10.99.0.1/24", "dev", "lo"]);
//! let own = Dockerd::start(DockerdOptions::default().netns(&ns).bridge().config(serde_json::json!({"bip": "10.200.0.1/24"})));
//! let bridge = own.docker(&["network", "inspect", "bridge"]);
//! # let _ = (id, bridge);
//! ```
//!
//! # Lifetime
//!
//! Each daemon runs under a supervisor thread that spawned it with `setpriv --pdeathsig TERM`, so the
//! kernel stops it when the test process ends for any reason (a panic, `abort`, the harness exiting
//! with [`Dockerd::shared`]'s daemon never dropped). [`Dockerd::start`]'s daemon is stopped on drop
//! (running containers removed, then SIGTERM by pid, then its directory removed), which also happens
//! while a failing test unwinds. The shared daemon's directory is removed by the next test process
//! that calls [`Dockerd::shared`] (directories whose owning process is gone).
//!
//! # Restarts
//!
//! [`Dockerd::restart`] and the script at [`Dockerd::restart_script`] (for a `systemctl` shim a
//! generated script calls) stop the daemon and have the supervisor start it again with the same
//! flags, re-reading its config file; they fail, with the daemon's log, when the new daemon exits.
//! After such a failure the daemon stays down until the next restart request.
//! [`Dockerd::stop_script`] and [`Dockerd::start_script`] do the two halves separately (`systemctl
//! stop docker`, then `systemctl start docker`, with the data root copied in between).
//!
//! [`DockerdOptions::data_root_in_config`] leaves `data-root` to the config file, for tests of a
//! start task that writes it there.
//!
//! Flags given here and keys in the config file must not overlap: dockerd refuses to start when a
//! directive is set both ways (`--bridge=none` is only passed when [`DockerdOptions::bridge`] is not
//! called; `--iptables=false --ip-masq=false` always are).

use std::{
    fs,
    io::{Read as _, Write as _},
    os::unix::{fs::PermissionsExt as _, net::UnixStream},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::{
        Arc, Condvar, Mutex, OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

/// How often waiting loops look again, and how many times (60 s in all) before they give up.
const POLL: Duration = Duration::from_millis(100);
const POLL_TRIES: u32 = 600;

/// The prefix of every daemon directory under the temp dir: `<prefix><pid>-<n>`.
const DIR_PREFIX: &str = "batchprep-dockerd-";

/// How a daemon is started; the default is the cheapest: no bridge, no iptables, an empty config.
#[derive(Debug, Clone, Default)]
pub struct DockerdOptions {
    bridge: bool,
    netns: Option<String>,
    config: Option<serde_json::Value>,
    config_file: Option<PathBuf>,
    args: Vec<String>,
    data_root_in_config: bool,
}

impl DockerdOptions {
    /// Lets dockerd create and use `docker0` (no `--bridge=none`); pair it with [`Self::netns`] so
    /// the bridge and its routes stay out of the host's network.
    pub fn bridge(mut self) -> Self {
        self.bridge = true;
        self
    }

    /// Runs the daemon inside `ns`: its interfaces, routes and [`NetNs::resolv_conf`].
    pub fn netns(mut self, ns: &NetNs) -> Self {
        self.netns = Some(ns.name.clone());
        self
    }

    /// The daemon's config file contents (written to `<dir>/daemon.json`; `{}` when not given).
    pub fn config(mut self, config: serde_json::Value) -> Self {
        self.config = Some(config);
        self
    }

    /// Reads the config from `path` instead (`--config-file path`), e.g. the file a start task
    /// under test writes; it must exist before the daemon starts.
    pub fn config_file(mut self, path: &Path) -> Self {
        self.config_file = Some(path.to_owned());
        self
    }

    /// One more dockerd flag, e.g. `--live-restore`.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// Leaves `--data-root` to the config file (dockerd refuses a directive set both ways), for
    /// tests of a start task that moves it. The config must set `data-root` (checked at start, so
    /// the host's `/var/lib/docker` is never used); [`Dockerd::data_root`] is then not the root.
    pub fn data_root_in_config(mut self) -> Self {
        self.data_root_in_config = true;
        self
    }
}

/// What the supervisor thread shares with the daemon's owner.
#[derive(Debug, Default)]
struct Supervised {
    /// Set on drop: no more (re)starts.
    stopping: bool,
    /// The running daemon's pid.
    pid: Option<u32>,
    /// How many daemons were started so far.
    starts: u64,
    /// How the last daemon ended, while none runs.
    exited: Option<String>,
}

/// A running private dockerd; see the module doc.
#[derive(Debug)]
pub struct Dockerd {
    dir: PathBuf,
    config_file: PathBuf,
    netns: Option<String>,
    state: Arc<(Mutex<Supervised>, Condvar)>,
    supervisor: Option<JoinHandle<()>>,
}

impl Dockerd {
    /// The test binary's shared daemon with default options, started on first use, never stopped
    /// by the test (the kernel stops it when the process ends).
    pub fn shared() -> &'static Dockerd {
        static SHARED: OnceLock<Dockerd> = OnceLock::new();
        SHARED.get_or_init(|| {
            remove_stale_dirs();
            Dockerd::start(DockerdOptions::default())
        })
    }

    /// Starts a daemon of its own and waits until it answers; panics with its log if it does not.
    pub fn start(options: DockerdOptions) -> Dockerd {
        let dir = new_dir();
        let config_file = match &options.config_file {
            Some(path) => path.clone(),
            None => {
                let path = dir.join("daemon.json");
                let config = options.config.clone().unwrap_or(serde_json::json!({}));
                fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
                path
            }
        };
        if options.data_root_in_config {
            let config: serde_json::Value =
                serde_json::from_slice(&fs::read(&config_file).unwrap()).unwrap();
            assert!(
                config.get("data-root").and_then(|v| v.as_str()).is_some(),
                "data_root_in_config: {} must set data-root",
                config_file.display()
            );
        }
        let command = daemon_command(&dir, &config_file, &options);
        write_restart_script(&dir);
        write_stop_start_scripts(&dir);
        let state = Arc::new((Mutex::new(Supervised::default()), Condvar::new()));
        let supervisor = {
            let (dir, state) = (dir.clone(), Arc::clone(&state));
            std::thread::Builder::new()
                .name(format!("dockerd {}", dir.display()))
                .spawn(move || supervise(&dir, &command, &state))
                .unwrap()
        };
        let daemon = Dockerd {
            dir,
            config_file,
            netns: options.netns,
            state,
            supervisor: Some(supervisor),
        };
        if let Err(e) = daemon.wait_ready(1) {
            panic!("{e}");
        }
        daemon
    }

    /// The directory holding `root/`, `exec/`, `sock`, `pid`, `log` and (by default) `daemon.json`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The Engine API socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("sock")
    }

    /// `unix://<socket>`, the value for `DOCKER_HOST` and `docker -H`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// The data root (`--data-root`).
    pub fn data_root(&self) -> PathBuf {
        self.dir.join("root")
    }

    /// The config file the daemon reads (`--config-file`).
    pub fn config_file(&self) -> &Path {
        &self.config_file
    }

    /// The network namespace the daemon runs in, if any.
    pub fn netns(&self) -> Option<&str> {
        self.netns.as_deref()
    }

    /// The running daemon's pid.
    pub fn pid(&self) -> Option<u32> {
        self.state.0.lock().unwrap().pid
    }

    /// Everything the daemon (and its restarts) logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// `docker -H <host> ARGS` ready to run, with `DOCKER_HOST` set too (for tools it starts) and
    /// the classic builder (Debian's `docker.io` has no buildx).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("docker");
        cmd.env("DOCKER_HOST", self.host())
            .env("DOCKER_BUILDKIT", "0")
            .arg("-H")
            .arg(self.host())
            .args(args);
        cmd
    }

    /// Runs `docker ARGS` against this daemon, whatever its outcome.
    pub fn docker_output(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap_or_else(|e| {
            panic!("cannot run docker ({e}): install docker.io with scripts/install-test-deps")
        })
    }

    /// Runs `docker ARGS` against this daemon and returns its stdout, trimmed; panics with its
    /// output (and the daemon's log tail) when it fails.
    pub fn docker(&self, args: &[&str]) -> String {
        let out = self.docker_output(args);
        assert!(
            out.status.success(),
            "`docker {}` failed ({}):\n{}{}\ndockerd log (tail):\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            tail(&self.log(), 20)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// `docker load -i archive`; returns what docker printed (`Loaded image: ...`).
    pub fn load(&self, archive: &Path) -> String {
        self.docker(&["load", "-q", "-i", &archive.to_string_lossy()])
    }

    /// Copies an image (any skopeo reference, e.g. [`crate::BuiltImage::reference`]) into this
    /// daemon as `name` (`skopeo copy ... docker-daemon:name`).
    pub fn import(&self, reference: &str, name: &str) {
        crate::run(
            "skopeo",
            &[
                "copy",
                "-q",
                "--dest-daemon-host",
                &self.host(),
                reference,
                &format!("docker-daemon:{name}"),
            ],
        );
    }

    /// `docker build -t tag context` (classic builder, `--network none`); returns the image id.
    pub fn build(&self, tag: &str, context: &Path) -> String {
        self.docker(&[
            "build",
            "-q",
            "--network",
            "none",
            "-t",
            tag,
            &context.to_string_lossy(),
        ])
    }

    /// Builds `dockerfile` with `files` (path in the context, contents, mode) as its context;
    /// returns the image id.
    pub fn build_dockerfile(
        &self,
        tag: &str,
        dockerfile: &str,
        files: &[(&str, Vec<u8>, u32)],
    ) -> String {
        let context = self.dir.join(format!("build-{}", unique()));
        fs::create_dir_all(&context).unwrap();
        fs::write(context.join("Dockerfile"), dockerfile).unwrap();
        for (path, contents, mode) in files {
            let file = context.join(path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(&file, contents).unwrap();
            fs::set_permissions(&file, fs::Permissions::from_mode(*mode)).unwrap();
        }
        let id = self.build(tag, &context);
        fs::remove_dir_all(&context).unwrap();
        id
    }

    /// A script that restarts this daemon (re-reading its config) and waits until it answers; it
    /// exits 1 with the log tail when the new daemon does not come up. For `systemctl` shims.
    pub fn restart_script(&self) -> PathBuf {
        self.dir.join("restart")
    }

    /// A script that stops this daemon and waits until it has exited; it stays down until
    /// [`Self::start_script`] (or a restart). For `systemctl stop` shims.
    pub fn stop_script(&self) -> PathBuf {
        self.dir.join("stop")
    }

    /// A script that starts this daemon after [`Self::stop_script`] (re-reading its config) and
    /// waits until it answers; it exits 1 with the log tail when the new daemon does not come up.
    /// For `systemctl start` shims.
    pub fn start_script(&self) -> PathBuf {
        self.dir.join("start")
    }

    /// How many times the daemon was started so far (1 after [`Dockerd::start`]).
    pub fn starts(&self) -> u64 {
        self.state.0.lock().unwrap().starts
    }

    /// `docker import` of a rootfs holding only `/bin/busybox` (Debian's `busybox-static`) and
    /// `/bin/sh`, `/bin/echo`, `/bin/cat`, `/bin/ls`, `/bin/true` linked to it, tagged `name`; the
    /// smallest image that runs. Returns the image id.
    pub fn import_busybox(&self, name: &str) -> String {
        let busybox = fs::read("/bin/busybox").unwrap_or_else(|e| {
            panic!("cannot read /bin/busybox ({e}): install busybox-static with scripts/install-test-deps")
        });
        let mut tar = tar::Builder::new(Vec::new());
        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_size(0);
        tar.append_data(&mut dir, "bin/", std::io::empty()).unwrap();
        let mut file = tar::Header::new_gnu();
        file.set_mode(0o755);
        file.set_size(busybox.len() as u64);
        tar.append_data(&mut file, "bin/busybox", busybox.as_slice())
            .unwrap();
        for applet in ["sh", "echo", "cat", "ls", "true"] {
            let mut link = tar::Header::new_gnu();
            link.set_entry_type(tar::EntryType::Symlink);
            link.set_mode(0o777);
            link.set_size(0);
            tar.append_link(&mut link, format!("bin/{applet}"), "busybox")
                .unwrap();
        }
        let rootfs = tar.into_inner().unwrap();
        let mut child = self
            .command(&["import", "-", name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run docker ({e}): install docker.io with scripts/install-test-deps")
            });
        child.stdin.take().unwrap().write_all(&rootfs).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "`docker import - {name}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Restarts the daemon as [`Self::restart_script`] does; `Err` carries the log tail when the
    /// new daemon does not come up.
    pub fn restart(&self) -> Result<(), String> {
        let starts = self.state.0.lock().unwrap().starts;
        fs::write(self.dir.join("start-request"), b"").unwrap();
        if let Some(pid) = self.pid() {
            signal(pid, "TERM");
        }
        self.wait_ready(starts + 1)
    }

    /// Waits until daemon number `starts` answers `/_ping`, or has exited.
    fn wait_ready(&self, starts: u64) -> Result<(), String> {
        let (lock, changed) = &*self.state;
        for _ in 0..POLL_TRIES {
            {
                let state = lock.lock().unwrap();
                let state = changed.wait_timeout(state, POLL).unwrap().0;
                if state.starts >= starts {
                    if let Some(how) = &state.exited {
                        return Err(format!(
                            "dockerd in {} {how}; log (tail):\n{}",
                            self.dir.display(),
                            tail(&self.log(), 30)
                        ));
                    }
                }
                if state.starts < starts || state.pid.is_none() {
                    continue;
                }
            }
            if ping(&self.socket()) {
                return Ok(());
            }
        }
        Err(format!(
            "dockerd in {} did not answer within {} s; log (tail):\n{}",
            self.dir.display(),
            (POLL * POLL_TRIES).as_secs(),
            tail(&self.log(), 30)
        ))
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        // Live-restore daemons would leave containers (and their shims) running.
        if self.pid().is_some() {
            let ids = self.docker_output(&["ps", "-aq"]);
            let ids = String::from_utf8_lossy(&ids.stdout).into_owned();
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f"];
                args.extend(ids);
                let _ = self.docker_output(&args);
            }
        }
        {
            let mut state = self.state.0.lock().unwrap();
            state.stopping = true;
            if let Some(pid) = state.pid {
                signal(pid, "TERM");
            }
            self.state.1.notify_all();
        }
        if let Some(supervisor) = self.supervisor.take() {
            let _ = supervisor.join();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The supervisor thread: starts the daemon, reaps it, and starts it again on request until the
/// owner stops it. Spawning from this long-lived thread is what makes `--pdeathsig` safe: the
/// signal fires when the spawning thread ends, and this one ends only after its daemon did.
fn supervise(dir: &Path, command: &[String], state: &(Mutex<Supervised>, Condvar)) {
    let (lock, changed) = state;
    let request = dir.join("start-request");
    let log = dir.join("log");
    loop {
        let mut child = {
            let mut s = lock.lock().unwrap();
            if s.stopping {
                return;
            }
            // This order: the restart script reads "no request, but exited" as a failed start.
            let _ = fs::remove_file(dir.join("exited"));
            let _ = fs::remove_file(&request);
            let out = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .unwrap();
            let child = Command::new(&command[0])
                .args(&command[1..])
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn();
            s.starts += 1;
            match child {
                Ok(child) => {
                    s.pid = Some(child.id());
                    s.exited = None;
                    changed.notify_all();
                    child
                }
                Err(e) => {
                    s.exited = Some(format!("could not be started ({e}): install docker.io"));
                    changed.notify_all();
                    return;
                }
            }
        };
        let status = child.wait();
        {
            let mut s = lock.lock().unwrap();
            s.pid = None;
            if s.stopping {
                return;
            }
            if request.exists() {
                continue;
            }
            let how = match status {
                Ok(status) => format!("exited ({status})"),
                Err(e) => format!("could not be waited for ({e})"),
            };
            fs::write(dir.join("exited"), &how).unwrap();
            s.exited = Some(how);
            changed.notify_all();
        }
        // Down until someone asks for a start (the restart script) or the owner stops it.
        loop {
            let s = lock.lock().unwrap();
            if s.stopping {
                return;
            }
            if request.exists() {
                break;
            }
            drop(changed.wait_timeout(s, POLL).unwrap());
        }
    }
}

/// The daemon's command line.
fn daemon_command(dir: &Path, config_file: &Path, options: &DockerdOptions) -> Vec<String> {
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let mut command: Vec<String> = ["setpriv", "--pdeathsig", "TERM"]
        .map(String::from)
        .to_vec();
    if let Some(ns) = &options.netns {
        // Not `ip netns exec`: it remounts /sys, and the cgroup v1 mounts dockerd needs go with it.
        // Only the network namespace, plus a private mount namespace for the resolv.conf bind mount.
        let resolv = Path::new("/etc/netns").join(ns).join("resolv.conf");
        command.extend([
            "nsenter".to_owned(),
            format!("--net=/run/netns/{ns}"),
            "unshare".to_owned(),
            "--mount".to_owned(),
            "--propagation=private".to_owned(),
            "sh".to_owned(),
            "-c".to_owned(),
            format!(
                "if [ -e {r} ]; then mount --bind {r} /etc/resolv.conf || exit 1; fi; exec \"$@\"",
                r = resolv.display()
            ),
            "sh".to_owned(),
        ]);
    }
    command.push("dockerd".to_owned());
    if !options.data_root_in_config {
        command.push(format!("--data-root={}", path("root")));
    }
    command.extend([
        format!("--exec-root={}", path("exec")),
        format!("--host=unix://{}", path("sock")),
        format!("--pidfile={}", path("pid")),
        format!("--config-file={}", config_file.display()),
        "--iptables=false".to_owned(),
        "--ip-masq=false".to_owned(),
    ]);
    if !options.bridge {
        command.push("--bridge=none".to_owned());
    }
    command.extend(options.args.iter().cloned());
    command
}

/// The end of the restart and start scripts: once the supervisor took the start request, wait (bounded)
/// until a daemon with a new pid (`$old` is the previous one) answers, or report why it did not.
fn wait_for_start() -> String {
    format!(
        r#"i=0
while [ "$i" -lt {POLL_TRIES} ]; do
  if [ ! -e "$d/start-request" ]; then
    if [ -e "$d/exited" ]; then
      echo "dockerd did not start: $(cat "$d/exited")" >&2
      tail -n 20 "$d/log" >&2
      exit 1
    fi
    new=$(cat "$d/pid" 2>/dev/null || true)
    if [ -n "$new" ] && [ "$new" != "$old" ] && docker -H "unix://$d/sock" version >/dev/null 2>&1; then
      exit 0
    fi
  fi
  sleep 0.1
  i=$((i + 1))
done
echo "dockerd did not answer within 60 s" >&2
tail -n 20 "$d/log" >&2
exit 1
"#
    )
}

/// Writes `<dir>/restart`: the shell side of [`Dockerd::restart`].
fn write_restart_script(dir: &Path) {
    let d = dir.display();
    let script = format!(
        r#"#!/bin/sh
# Restarts the test's private dockerd (batchprep-testkit dockerd.rs): asks its supervisor for a new
# start, stops the running daemon, and waits until the new one answers.
set -u
d='{d}'
: > "$d/start-request"
old=$(cat "$d/pid" 2>/dev/null || true)
[ -n "$old" ] && kill -TERM "$old" 2>/dev/null
{wait}"#,
        wait = wait_for_start()
    );
    let path = dir.join("restart");
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Writes `<dir>/stop` and `<dir>/start`: [`Dockerd::stop_script`] and [`Dockerd::start_script`].
fn write_stop_start_scripts(dir: &Path) {
    let d = dir.display();
    let stop = format!(
        r#"#!/bin/sh
# Stops the test's private dockerd (batchprep-testkit dockerd.rs) and waits until it has exited; its
# supervisor keeps it down until a start or restart request. Stopping a stopped daemon does nothing.
set -u
d='{d}'
[ -e "$d/exited" ] && exit 0
pid=$(cat "$d/pid" 2>/dev/null || true)
[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
i=0
while [ "$i" -lt {POLL_TRIES} ]; do
  [ -e "$d/exited" ] && exit 0
  sleep 0.1
  i=$((i + 1))
done
echo "dockerd did not stop within 60 s" >&2
exit 1
"#
    );
    let start = format!(
        r#"#!/bin/sh
# Starts the test's private dockerd (batchprep-testkit dockerd.rs) after a stop, re-reading its
# config, and waits until it answers; exits 1 with the log tail when it does not come up. Starting a
# running daemon does nothing.
set -u
d='{d}'
if [ ! -e "$d/exited" ] && [ ! -e "$d/start-request" ]; then
  docker -H "unix://$d/sock" version >/dev/null 2>&1 && exit 0
fi
old=$(cat "$d/pid" 2>/dev/null || true)
: > "$d/start-request"
{wait}"#,
        wait = wait_for_start()
    );
    for (name, script) in [("stop", stop), ("start", start)] {
        let path = dir.join(name);
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// `GET /_ping` on the socket answers `OK`.
fn ping(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.") && answer.contains(" 200 ") && answer.ends_with("OK")
}

/// Sends `SIG<name>` to `pid` (std only has SIGKILL, and unsafe code is forbidden here).
fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// A number unique in this process.
fn unique() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A fresh daemon directory; short, because the socket path must fit in 108 bytes.
fn new_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{DIR_PREFIX}{}-{}", std::process::id(), unique()));
    assert!(
        dir.join("exec/containerd/containerd-debug.sock")
            .as_os_str()
            .len()
            < 100,
        "temp dir {} is too long for dockerd's sockets; set TMPDIR=/tmp",
        dir.display()
    );
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Removes daemon directories left by test processes that have ended (their daemons stopped with
/// them); a directory still in use by a running daemon is kept.
fn remove_stale_dirs() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = name
            .strip_prefix(DIR_PREFIX)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let alive = |pid: &str| Path::new("/proc").join(pid.trim()).exists();
        let daemon = fs::read_to_string(entry.path().join("pid")).unwrap_or_default();
        if !alive(owner) && (daemon.trim().is_empty() || !alive(&daemon)) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A network namespace made for one test (`ip netns add`), with `lo` up; deleted on drop, with
/// its `/etc/netns/<name>/` (where [`NetNs::resolv_conf`] writes).
#[derive(Debug)]
pub struct NetNs {
    name: String,
}

impl NetNs {
    /// Creates `batchprep-<pid>-<n>`.
    pub fn new() -> NetNs {
        let name = format!("batchprep-{}-{}", std::process::id(), unique());
        crate::run("ip", &["netns", "add", &name]);
        let ns = NetNs { name };
        ns.run(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    /// Its name, for `ip netns exec`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `program args` inside the namespace; returns stdout, panics when it fails.
    pub fn run(&self, command: &[&str]) -> String {
        let mut args = vec!["netns", "exec", &self.name];
        args.extend(command);
        crate::run("ip", &args)
    }

    /// The `/etc/resolv.conf` the daemon in this namespace sees (written to
    /// `/etc/netns/<name>/resolv.conf` and bind-mounted, as `ip netns exec` does). Call before
    /// starting the daemon.
    pub fn resolv_conf(&self, contents: &str) {
        let dir = Path::new("/etc/netns").join(&self.name);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("resolv.conf"), contents).unwrap();
    }
}

impl Default for NetNs {
    fn default() -> Self {
        NetNs::new()
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
        let _ = fs::remove_dir_all(Path::new("/etc/netns").join(&self.name));
    }
}
