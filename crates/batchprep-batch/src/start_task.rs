//! The start task that moves Docker's data root off the OS disk and sets the bridge, as one idempotent
//! bash script. The Batch doc's own start task (`docker daemon -g`) fails on every current engine
//! (`docker daemon` went in 17.12, `-g/--graph` in 23.0), so this merges `data-root`, `bip` and
//! `default-address-pools` into `daemon.json` instead, keeping every other key, and carries over the images
//! that prefetch already put in the old root.
//!
//! The merge uses `python3` (or RHEL's `/usr/libexec/platform-python`): both the Ubuntu HPC and the
//! AlmaLinux HPC images ship it, while `jq` is not guaranteed. Every path the script touches can be
//! overridden by a `BATCHPREP_*` environment variable, which is how the tests run it in a sandbox.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::catalog::OsFamily;

/// Where the script puts Docker's data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataRootTarget {
    /// Leave it where it is (only the bridge settings change).
    Keep,
    /// `<first mounted temp disk>/docker`, trying these mount points in order at run time.
    Auto {
        /// Candidate temp-disk mount points.
        temp_disks: Vec<String>,
    },
    /// This absolute path.
    Path(String),
}

impl DataRootTarget {
    /// `auto` for an image family: Ubuntu mounts the temp disk at `/mnt`, the RHEL family (and NVMe-only
    /// sizes, which Batch formats) at `/mnt/resource`.
    pub fn auto_for(family: Option<OsFamily>) -> DataRootTarget {
        let disks: &[&str] = match family {
            Some(OsFamily::El) => &["/mnt/resource", "/mnt"],
            _ => &["/mnt", "/mnt/resource"],
        };
        DataRootTarget::Auto {
            temp_disks: disks.iter().map(|d| (*d).to_owned()).collect(),
        }
    }
}

/// One `default-address-pools` entry of `daemon.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AddressPool {
    /// Base range (`10.200.0.0/16`).
    pub base: String,
    /// Prefix length of each network carved from it.
    pub size: u8,
}

/// What the start task does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartTask {
    /// Docker's data root.
    pub data_root: DataRootTarget,
    /// docker0's address (`bip`), when it must change.
    pub bip: Option<String>,
    /// `default-address-pools`, when they must change.
    pub default_address_pools: Vec<AddressPool>,
    /// Images to pull again when they are not in the new root (prefetch put them in the old one).
    pub prefetch: Vec<String>,
}

/// The file name the command line writes the script to, in the start task's working directory.
pub const SCRIPT_FILE: &str = "batchprep-start-task.sh";

impl StartTask {
    /// Whether the task changes anything at all.
    pub fn is_needed(&self) -> bool {
        self.data_root != DataRootTarget::Keep
            || self.bip.is_some()
            || !self.default_address_pools.is_empty()
    }

    /// The `bip` the script sets: the one given or, when pools are set without one, the address
    /// Docker would give a new docker0 from them ([`crate::net::bip_for_pools`]): an existing
    /// docker0 keeps its old address across a data-root move or with `live-restore` unless `bip`
    /// says where it goes.
    pub fn effective_bip(&self) -> Option<String> {
        if self.bip.is_some() || self.default_address_pools.is_empty() {
            return self.bip.clone();
        }
        let pools = self
            .default_address_pools
            .iter()
            .map(|p| {
                let base: ipnet::IpNet = p.base.parse().ok()?;
                crate::net::AddressPool::new(base, p.size, "default-address-pools", &p.base).ok()
            })
            .collect::<Option<Vec<_>>>()?;
        crate::net::bip_for_pools(&pools, &crate::net::NodeNetwork::default())
            .map(|b| b.to_string())
    }

    /// The bash script.
    pub fn script(&self) -> String {
        let (data_root, temp_disks) = match &self.data_root {
            DataRootTarget::Keep => (String::new(), String::new()),
            DataRootTarget::Auto { temp_disks } => (String::new(), temp_disks.join(" ")),
            DataRootTarget::Path(p) => (p.clone(), String::new()),
        };
        let mode = match &self.data_root {
            DataRootTarget::Keep => "keep",
            DataRootTarget::Auto { .. } => "auto",
            DataRootTarget::Path(_) => "path",
        };
        let pools = if self.default_address_pools.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&self.default_address_pools).expect("address pools serialise")
        };
        let prefetch: Vec<String> = self.prefetch.iter().map(|p| quote(p)).collect();
        SCRIPT
            .replace("@MODE@", mode)
            .replace("@DATA_ROOT@", &quote(&data_root))
            .replace("@TEMP_DISKS@", &quote(&temp_disks))
            .replace(
                "@BIP@",
                &quote(self.effective_bip().as_deref().unwrap_or("")),
            )
            .replace("@POOLS@", &quote(&pools))
            .replace("@PREFETCH@", &prefetch.join(" "))
    }

    /// The `commandLine`: Batch does not run it under a shell, so it hands the script to bash, gzipped
    /// and base64 encoded (no quoting pitfalls, half the length), and leaves a copy in the task's working
    /// directory for debugging. A trailing comment says in words what the script does, for whoever
    /// reads the pool definition.
    pub fn command_line(&self) -> String {
        format!(
            "/bin/bash -c '{} && exec /bin/bash {SCRIPT_FILE} # {}'",
            self.unpack(),
            self.summary().replace('\'', "")
        )
    }

    /// A command line that runs the script, then `existing` (another start task's command line)
    /// under the same bash: for a pool that has a start task of its own. bash now reads `existing`,
    /// which Batch ran without a shell, so variables and globs in it expand.
    pub fn command_line_before(&self, existing: &str) -> String {
        // Inside the single quotes of `bash -c '...'`.
        let existing = existing.replace('\'', "'\\''");
        format!(
            "/bin/bash -c '{} && /bin/bash {SCRIPT_FILE} && {existing} # {}'",
            self.unpack(),
            self.summary().replace('\'', "")
        )
    }

    /// The shell words that write the script, gzipped and base64 encoded, to [`SCRIPT_FILE`].
    fn unpack(&self) -> String {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(self.script().as_bytes())
            .expect("writing to memory cannot fail");
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(gz.finish().expect("writing to memory cannot fail"));
        format!("echo {encoded} | base64 -d | gunzip > {SCRIPT_FILE}")
    }

    /// What the script does, in one line: `batchprep start task: Docker data-root -> ...; bip ...`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        match &self.data_root {
            DataRootTarget::Keep => {}
            DataRootTarget::Auto { temp_disks } => parts.push(format!(
                "Docker data-root -> temp disk ({})/docker",
                temp_disks.join(" or ")
            )),
            DataRootTarget::Path(p) => parts.push(format!("Docker data-root -> {p}")),
        }
        match (&self.bip, self.effective_bip()) {
            (Some(bip), _) => parts.push(format!("bip {bip}")),
            (None, Some(bip)) => parts.push(format!("bip {bip} (from the pools)")),
            (None, None) => {}
        }
        if !self.default_address_pools.is_empty() {
            parts.push(format!(
                "default-address-pools {}",
                self.default_address_pools
                    .iter()
                    .map(|p| format!("{}/{}", p.base, p.size))
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        format!("batchprep start task: {}", parts.join("; "))
    }

    /// The script inside a command line written by [`StartTask::command_line`], for checks that read
    /// pool definitions.
    pub fn decode_command_line(command_line: &str) -> Option<String> {
        let rest = command_line.strip_prefix("/bin/bash -c 'echo ")?;
        let encoded = rest.split(' ').next()?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        let mut script = String::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut script)
            .ok()?;
        Some(script)
    }

    /// A start task this module wrote, read back from its `commandLine`: what its script sets, and
    /// the pool's own command line it runs after the script (written by
    /// [`StartTask::command_line_before`]). `None` for any other command line.
    pub fn read_command_line(command_line: &str) -> Option<(StartTask, Option<String>)> {
        let script = StartTask::decode_command_line(command_line)?;
        let value = |name: &str| -> Option<String> {
            let line = script
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))?;
            let words = shell_words(line)?;
            Some(words.into_iter().next().unwrap_or_default())
        };
        let data_root = match value("mode")?.as_str() {
            "keep" => DataRootTarget::Keep,
            "auto" => DataRootTarget::Auto {
                temp_disks: value("default_temp_disks")?
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
            },
            "path" => DataRootTarget::Path(value("default_data_root")?),
            _ => return None,
        };
        let pools = value("address_pools")?;
        let default_address_pools = if pools.is_empty() {
            Vec::new()
        } else {
            serde_json::from_str(&pools).ok()?
        };
        let prefetch = script
            .lines()
            .find_map(|l| l.strip_prefix("prefetch=(")?.strip_suffix(')'))
            .and_then(shell_words)?;
        let mut task = StartTask {
            data_root,
            bip: None,
            default_address_pools,
            prefetch,
        };
        // The script holds the bip it sets; one the pools imply is left implied, as written.
        let bip = value("bip")?;
        if !bip.is_empty() && task.effective_bip().as_deref() != Some(bip.as_str()) {
            task.bip = Some(bip);
        }
        let then = command_line
            .split_once(&format!(" && /bin/bash {SCRIPT_FILE} && "))
            .and_then(|(_, rest)| rest.rsplit_once(" # batchprep start task: "))
            .map(|(existing, _)| existing.replace("'\\''", "'"));
        Some((task, then))
    }

    /// Docker's settings on a node once this task ran: `before` with the bridge and pools it sets.
    pub fn applied_to(&self, before: &crate::net::DockerSettings) -> crate::net::DockerSettings {
        let mut after = before.clone();
        if let Some(bip) = self.effective_bip().and_then(|b| b.parse().ok()) {
            after.bip = Some(bip);
        }
        if !self.default_address_pools.is_empty() {
            after.default_address_pools = self
                .default_address_pools
                .iter()
                .map(|p| {
                    let base: ipnet::IpNet = p.base.parse().ok()?;
                    crate::net::AddressPool::new(base, p.size, "the start task", &p.base).ok()
                })
                .collect();
        }
        after
    }

    /// The data-plane `startTask` object: pool-scope admin auto-user, waits for success, retried once.
    pub fn to_rest(&self) -> Value {
        rest_start_task(&self.command_line())
    }
}

/// batchprep's start task running `command_line`, as the REST API takes it: an admin pool auto-user,
/// one retry, waited for.
pub fn rest_start_task(command_line: &str) -> Value {
    json!({
        "commandLine": command_line,
        "userIdentity": {"autoUser": {"scope": "pool", "elevationLevel": "admin"}},
        "maxTaskRetryCount": 1,
        "waitForSuccess": true,
    })
}

/// The words of `line` as bash reads plain words, single-quoted words and `\'` between them
/// (what [`quote`] writes); `None` for anything that would expand.
fn shell_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ').is_some() {}
        if chars.peek().is_none() {
            return Some(words);
        }
        let mut word = String::new();
        while let Some(c) = chars.next_if(|c| *c != ' ') {
            match c {
                '\'' => loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                },
                '\\' => word.push(chars.next()?),
                c if c.is_ascii_alphanumeric() || "-_./:@,+=%".contains(c) => word.push(c),
                _ => return None,
            }
        }
        words.push(word);
    }
}

/// Single-quotes a value for bash.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

const SCRIPT: &str = r#"#!/bin/bash
# batchprep start task: puts Docker's data root and bridge settings in daemon.json (merged, every other
# key kept), restarts Docker once, carries over the images already pulled, and checks the result.
# Safe to run again: a node that already has the settings is left alone. When Docker does not come
# back with the new settings, the previous daemon.json is put back and Docker started with it.
# Overrides (for testing): BATCHPREP_DAEMON_JSON, BATCHPREP_DATA_ROOT, BATCHPREP_TEMP_DISKS,
# BATCHPREP_OLD_ROOT, BATCHPREP_WAIT_SECONDS; docker itself honours DOCKER_HOST.
set -euo pipefail

mode=@MODE@
default_data_root=@DATA_ROOT@
default_temp_disks=@TEMP_DISKS@
daemon_json="${BATCHPREP_DAEMON_JSON:-/etc/docker/daemon.json}"
data_root="${BATCHPREP_DATA_ROOT:-$default_data_root}"
temp_disks="${BATCHPREP_TEMP_DISKS:-$default_temp_disks}"
bip=@BIP@
address_pools=@POOLS@
prefetch=(@PREFETCH@)
wait_seconds="${BATCHPREP_WAIT_SECONDS:-60}"

log() { echo "batchprep start task: $*"; }
die() { echo "batchprep start task: error: $*" >&2; exit 1; }

python=$(command -v python3 || command -v /usr/libexec/platform-python || true)
[ -n "$python" ] || die "python3 is needed to merge $daemon_json and was not found"

# Docker takes an explicit bip as given, never checking it against routes or nameservers: refuse one
# on the node's own subnet or over its nameserver (docker0 would cut the node off from them), before
# anything changes. Docker's own bridges (docker0, br-*) are left out.
if [ -n "$bip" ]; then
  routes=$({ ip -4 route show; ip -6 route show; } 2>/dev/null || true)
  clash=$("$python" - "$bip" "$routes" /etc/resolv.conf <<'PY'
import ipaddress, sys
bip, routes, resolv = sys.argv[1:4]
try:
    net = ipaddress.ip_interface(bip).network
except ValueError:
    sys.exit(0)
skip = ("default", "local", "broadcast", "unreachable", "blackhole", "prohibit", "throw", "multicast")
for line in routes.splitlines():
    words = line.split()
    if not words or words[0] in skip or "via" in words:
        continue
    dev = words[words.index("dev") + 1] if "dev" in words[:-1] else ""
    if dev == "docker0" or dev.startswith("br-"):
        continue
    try:
        dst = ipaddress.ip_network(words[0], strict=False)
    except ValueError:
        continue
    if dst.version == net.version and dst.prefixlen > 0 and dst.overlaps(net):
        print("the on-link route %s (dev %s)" % (dst, dev))
        sys.exit(0)
try:
    with open(resolv) as f:
        lines = f.read().splitlines()
except OSError:
    lines = []
for line in lines:
    words = line.split()
    if len(words) >= 2 and words[0] == "nameserver":
        try:
            ip = ipaddress.ip_address(words[1].split("%")[0])
        except ValueError:
            continue
        if ip.version == net.version and ip in net:
            print("the nameserver %s" % ip)
            sys.exit(0)
PY
)
  [ -z "$clash" ] || die "bip $bip overlaps $clash: Docker would put docker0 on it as given; choose a bip outside the node's subnets and nameservers"
fi

if [ "$mode" = auto ] && [ -z "$data_root" ]; then
  for disk in $temp_disks; do
    if mountpoint -q "$disk"; then
      data_root="${disk%/}/docker"
      break
    fi
  done
  [ -n "$data_root" ] || die "no temp disk is mounted at: $temp_disks (set data-root to a path, or keep)"
fi

created_root=""
applied=""
if [ -n "$data_root" ]; then
  [ -e "$data_root" ] || created_root="$data_root"
  if ! mkdir -p "$data_root" 2>/dev/null || [ ! -w "$data_root" ]; then
    die "cannot create or write the Docker data root $data_root"
  fi
fi

# Docker reports its root with symlinks resolved; compare paths the same way.
same_path() { [ "$(readlink -m -- "$1")" = "$(readlink -m -- "$2")" ]; }

new_json="$daemon_json.batchprep-new"
old_json="$daemon_json.batchprep-previous"
trap 'rm -f "$new_json"' EXIT

# Prints "changed" (the merged file is left at $new_json) or "unchanged".
merge_daemon_json() {
  "$python" - "$daemon_json" "$new_json" "$data_root" "$bip" "$address_pools" <<'PY'
import json, os, sys
path, new, root, bip, pools = sys.argv[1:6]
try:
    with open(path) as f:
        text = f.read()
except FileNotFoundError:
    text = ""
try:
    config = json.loads(text) if text.strip() else {}
except ValueError as e:
    sys.exit("batchprep start task: error: %s is not valid JSON: %s" % (path, e))
if not isinstance(config, dict):
    sys.exit("batchprep start task: error: %s does not hold a JSON object" % path)
want = {}
if root:
    want["data-root"] = root
if bip:
    want["bip"] = bip
if pools:
    want["default-address-pools"] = json.loads(pools)
# "graph" is the removed spelling of data-root; Docker refuses to start with both.
stale = [k for k in ("graph",) if root and k in config]
if not stale and all(config.get(k) == v for k, v in want.items()):
    print("unchanged")
    sys.exit(0)
for k in stale:
    del config[k]
config.update(want)
try:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(new, "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
except OSError as e:
    sys.exit("batchprep start task: error: cannot write %s: %s" % (new, e))
print("changed")
PY
}

docker_root() { docker info --format '{{.DockerRootDir}}' 2>/dev/null || true; }

# Waits until Docker answers; prints its data root (empty when it did not come back in time).
wait_for_docker() {
  local root=""
  for _ in $(seq 1 "$wait_seconds"); do
    root=$(docker_root)
    [ -n "$root" ] && break
    sleep 1
  done
  printf '%s' "$root"
}

# dockerd's own reason for refusing to start, from systemctl's output or the journal.
start_failure() {
  { printf '%s\n' "$1"; journalctl -u docker -n 50 --no-pager -o cat 2>/dev/null || true; } \
    | grep -E -m1 'failed to start daemon|unable to configure the Docker daemon' \
    || printf '%s\n' "${1%%$'\n'*}"
}

# Puts the previous daemon.json back (when this run replaced it), starts Docker with it, and fails
# with $1 and how that went.
restore_and_die() {
  local what="left $daemon_json as it was"
  if [ -n "$applied" ] && [ -e "$old_json" ]; then
    mv -f "$old_json" "$daemon_json"
    what="put the previous $daemon_json back"
  elif [ -n "$applied" ]; then
    rm -f "$daemon_json"
    what="removed $daemon_json (there was none before)"
  fi
  [ -z "$created_root" ] || rm -rf "${created_root:?}"
  systemctl stop docker >/dev/null 2>&1 || true
  if systemctl start docker >/dev/null 2>&1 && [ -n "$(wait_for_docker)" ]; then
    die "$1; $what and Docker runs again"
  fi
  die "$1; $what, but Docker did not start again (see: journalctl -u docker)"
}

running_root=$(docker_root)
state=$(merge_daemon_json)
carried_from=""
if [ "$state" = unchanged ] && [ -n "$running_root" ] && { [ -z "$data_root" ] || same_path "$running_root" "$data_root"; }; then
  log "daemon.json already has the settings and Docker runs with them"
else
  old_root="${running_root:-${BATCHPREP_OLD_ROOT:-/var/lib/docker}}"
  if [ -n "$data_root" ] && ! same_path "$old_root" "$data_root"; then
    case "$(readlink -m -- "$data_root")/" in
      "$(readlink -m -- "$old_root")"/*)
        rm -f "$new_json"
        die "the new data root $data_root is inside the old one $old_root" ;;
    esac
  fi
  log "stopping Docker to apply $daemon_json"
  systemctl stop docker.socket 2>/dev/null || true
  systemctl stop docker
  if [ -n "$data_root" ] && ! same_path "$old_root" "$data_root" && [ -d "$old_root" ]; then
    log "carrying over $old_root to $data_root"
    if ! cp -a "$old_root/." "$data_root/"; then
      restore_and_die "copying $old_root to $data_root failed"
    fi
    carried_from="$old_root"
  fi
  rm -f "$old_json"
  if [ "$state" = changed ]; then
    [ ! -e "$daemon_json" ] || cp -p "$daemon_json" "$old_json"
    mv -f "$new_json" "$daemon_json"
    applied=yes
  fi
  log "starting Docker"
  if ! out=$(systemctl start docker 2>&1); then
    restore_and_die "Docker did not start with the new $daemon_json: $(start_failure "$out")"
  fi
fi

actual=$(wait_for_docker)
if [ -z "$actual" ]; then
  [ -n "$carried_from" ] || [ -n "$applied" ] || die "Docker did not come back within ${wait_seconds}s (see: journalctl -u docker)"
  restore_and_die "Docker did not answer within ${wait_seconds}s with the new $daemon_json"
fi
if [ -n "$data_root" ] && ! same_path "$actual" "$data_root"; then
  if [ -n "$carried_from" ] || [ -n "$applied" ]; then
    restore_and_die "Docker reports data root $actual, expected $data_root"
  fi
  die "Docker reports data root $actual, expected $data_root"
fi
rm -f "$old_json"
log "Docker data root: $actual"
if [ -n "$carried_from" ]; then
  # Only now that Docker runs from the copy: free the OS disk.
  rm -rf "${carried_from:?}"
  log "removed the old data root $carried_from"
fi

for image in ${prefetch[@]+"${prefetch[@]}"}; do
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    log "pulling $image again (not in $actual)"
    docker pull "$image" >/dev/null || die "docker pull $image failed"
  fi
done
log "done"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_uses_the_removed_daemon_flags() {
        let task = StartTask {
            data_root: DataRootTarget::auto_for(Some(OsFamily::Ubuntu)),
            bip: Some("10.199.0.1/24".into()),
            default_address_pools: vec![AddressPool {
                base: "10.200.0.0/16".into(),
                size: 24,
            }],
            prefetch: vec!["docker.io/library/ubuntu:24.04".into()],
        };
        let script = task.script();
        assert!(!script.contains("docker daemon"));
        assert!(!script.contains(" -g ") && !script.contains("--graph"));
        assert!(script.contains("default_temp_disks='/mnt /mnt/resource'"));
        assert!(script.contains(r#"address_pools='[{"base":"10.200.0.0/16","size":24}]'"#));
        assert!(script.contains("prefetch=('docker.io/library/ubuntu:24.04')"));
    }

    #[test]
    fn pools_without_bip_get_the_bip_docker_would_give_a_new_docker0() {
        let task = StartTask {
            data_root: DataRootTarget::Keep,
            bip: None,
            default_address_pools: vec![
                AddressPool {
                    base: "10.60.0.0/16".into(),
                    size: 24,
                },
                AddressPool {
                    base: "10.61.0.0/16".into(),
                    size: 24,
                },
            ],
            prefetch: vec![],
        };
        assert_eq!(task.effective_bip().as_deref(), Some("10.60.0.1/24"));
        assert!(task.script().contains("bip='10.60.0.1/24'"));
        assert_eq!(
            task.summary(),
            "batchprep start task: bip 10.60.0.1/24 (from the pools); default-address-pools 10.60.0.0/16/24,10.61.0.0/16/24"
        );
        // A given bip is kept as it is; no pools, no bip.
        let given = StartTask {
            bip: Some("10.199.0.1/24".into()),
            ..task.clone()
        };
        assert_eq!(given.effective_bip().as_deref(), Some("10.199.0.1/24"));
        let none = StartTask {
            data_root: DataRootTarget::Path("/data".into()),
            bip: None,
            default_address_pools: vec![],
            prefetch: vec![],
        };
        assert_eq!(none.effective_bip(), None);
        assert!(none.script().contains("bip=''"));
    }

    #[test]
    fn command_line_decodes_to_the_script() {
        let task = StartTask {
            data_root: DataRootTarget::Path("/data/it's docker".into()),
            bip: None,
            default_address_pools: vec![],
            prefetch: vec![],
        };
        let cl = task.command_line();
        assert_eq!(StartTask::decode_command_line(&cl).unwrap(), task.script());
        assert!(
            cl.ends_with("| base64 -d | gunzip > batchprep-start-task.sh && exec /bin/bash batchprep-start-task.sh # batchprep start task: Docker data-root -> /data/its docker'"),
            "{cl}"
        );
        assert_eq!(StartTask::decode_command_line("docker daemon -g /x"), None);
        assert!(
            task.script()
                .contains(r"default_data_root='/data/it'\''s docker'")
        );
    }

    #[test]
    fn a_written_start_task_reads_back_with_the_command_line_it_runs_after() {
        let task = StartTask {
            data_root: DataRootTarget::auto_for(Some(OsFamily::El)),
            bip: None,
            default_address_pools: vec![AddressPool {
                base: "10.60.0.0/16".into(),
                size: 24,
            }],
            prefetch: vec!["docker.io/library/it's:1".into(), "b".into()],
        };
        assert_eq!(
            StartTask::read_command_line(&task.command_line()),
            Some((task.clone(), None))
        );
        let own = "/bin/sh -c 'echo it'\\''s mine && true'";
        assert_eq!(
            StartTask::read_command_line(&task.command_line_before(own)),
            Some((task.clone(), Some(own.to_owned())))
        );
        let given = StartTask {
            data_root: DataRootTarget::Path("/data/x y".into()),
            bip: Some("10.199.0.1/24".into()),
            ..task.clone()
        };
        assert_eq!(
            StartTask::read_command_line(&given.command_line()),
            Some((given, None))
        );
        assert_eq!(StartTask::read_command_line("/bin/bash -c 'echo hi'"), None);
        let docker = task.applied_to(&crate::net::DockerSettings::default());
        assert_eq!(
            docker.bip.map(|b| b.to_string()).as_deref(),
            Some("10.60.0.1/24")
        );
        assert_eq!(docker.default_address_pools.map(|p| p.len()), Some(1));
    }
}
