//! The user a container process runs as, resolved from the image's `/etc/passwd` and `/etc/group`
//! as Moby resolves `--user` when it starts the container: the daemon opens both files in the
//! container's root filesystem (following symlinks inside it) and hands them to moby/sys/user
//! `GetExecUser`. A name must be in the file; a number need not be; without an explicit group the
//! process gets the passwd entry's group (gid 0 when there is no entry) and, for a named entry, the
//! groups that list it as a member. A file that cannot be opened counts as empty, so on an image
//! without `/etc/passwd` every name fails, `root` included.
//!
//! Written here because it must be Moby's parser, quirks and all (no comment lines in passwd, Go's
//! `strconv.Atoi` for ids, a 64 KiB line limit in passwd), not the C library's.

use crate::{EntryKind, MergedFs, Resolved, exec::Captured};

/// Where Moby reads the users.
pub const PASSWD: &str = "/etc/passwd";
/// Where Moby reads the groups.
pub const GROUP: &str = "/etc/group";

/// The ids the process gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecUser {
    /// The uid.
    pub uid: u32,
    /// The primary gid.
    pub gid: u32,
    /// Supplementary gids from `/etc/group` membership (a named user without an explicit group).
    pub supplementary_gids: Vec<u32>,
}

/// What resolving a user spec gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserLookup {
    /// The container starts as these ids.
    Resolved(ExecUser),
    /// The container does not start; the daemon's error, as it words it.
    Fails(String),
    /// The files could not be read exactly from the index (a passwd that is a symlink out of
    /// `/etc`, larger than what indexing keeps, or a special file): no verdict.
    Unknown,
}

/// One of the two files, as the daemon finds it.
#[derive(Debug, Clone, Copy)]
enum DbFile<'a> {
    /// Not there (or not openable): read as no entries.
    Absent,
    /// A regular file's bytes.
    Bytes(&'a [u8]),
    /// A directory: opening works, reading fails.
    Directory,
}

/// The upper end of the id range moby/sys/user accepts for an id without an entry.
const MAX_ID: i64 = (1 << 31) - 1;
/// `bufio.Scanner`'s largest token: a longer passwd line fails the whole lookup.
const MAX_PASSWD_LINE: usize = 64 * 1024;
const RANGE_ERROR: &str = "uids and gids must be in range 0-2147483647";

/// Resolves `spec` (`user`, `uid`, `user:group`, `uid:gid`, ...) against the image's files.
pub fn resolve(fs: &MergedFs, spec: &str) -> UserLookup {
    let (Some(passwd), Some(group)) = (db_file(fs, PASSWD), db_file(fs, GROUP)) else {
        return UserLookup::Unknown;
    };
    match exec_user(spec, passwd, group) {
        Ok(user) => UserLookup::Resolved(user),
        Err(e) => UserLookup::Fails(e),
    }
}

/// Whether the image has no `/etc/passwd` the daemon can open, so that every user name fails.
pub fn passwd_absent(fs: &MergedFs) -> bool {
    matches!(db_file(fs, PASSWD), Some(DbFile::Absent))
}

/// The file at `path` as the daemon opens it; `None` when the index cannot say what it holds.
fn db_file<'a>(fs: &'a MergedFs, path: &str) -> Option<DbFile<'a>> {
    let real = match fs.resolve(path).outcome {
        Resolved::Found { path } => path,
        Resolved::Missing { .. } | Resolved::NotADirectory { .. } => return Some(DbFile::Absent),
        Resolved::Loop => return None,
    };
    let entry = fs.entry(&real)?;
    match entry.kind {
        EntryKind::Dir => Some(DbFile::Directory),
        EntryKind::File if entry.size == 0 => Some(DbFile::Bytes(&[])),
        EntryKind::File => match fs.captured(&real)? {
            Captured::Config(bytes) if bytes.len() as u64 == entry.size => {
                Some(DbFile::Bytes(bytes))
            }
            _ => None,
        },
        _ => None,
    }
}

/// moby/sys/user `GetExecUser` with no defaults (what the daemon passes).
fn exec_user(spec: &str, passwd: DbFile<'_>, group: DbFile<'_>) -> Result<ExecUser, String> {
    let mut parts = spec.split(':');
    let user_arg = parts.next().unwrap_or("");
    let group_arg = parts.next().unwrap_or("");
    let uid_arg = atoi(user_arg).ok();
    let gid_arg = atoi(group_arg).ok();

    let users = passwd_entries(passwd).map_err(|e| {
        let who = if user_arg.is_empty() { "0" } else { user_arg };
        format!("unable to find user {who}: {e}")
    })?;
    let matched = users.into_iter().find(|u| match uid_arg {
        _ if user_arg.is_empty() => u.uid == 0,
        Some(uid) => u.uid == uid,
        None => u.name == user_arg.as_bytes(),
    });
    let (mut uid, mut gid, matched_name) = match matched {
        Some(u) => (u.uid, u.gid, Some(u.name)),
        None if user_arg.is_empty() => (0, 0, None),
        None => {
            let Some(uid) = uid_arg else {
                return Err(format!(
                    "unable to find user {user_arg}: no matching entries in passwd file"
                ));
            };
            if !(0..=MAX_ID).contains(&uid) {
                return Err(RANGE_ERROR.into());
            }
            (uid, 0, None)
        }
    };
    // An entry with an empty name looks up no groups, as in Go (the name is compared with "").
    let matched_name = matched_name.filter(|n| !n.is_empty());
    let mut supplementary = Vec::new();
    if !group_arg.is_empty() || matched_name.is_some() {
        let groups = group_entries(group).map_err(|e| {
            let spec = matched_name
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            format!("unable to find groups for spec {spec}: {e}")
        })?;
        let wanted = groups.iter().filter(|g| {
            if group_arg.is_empty() {
                matched_name
                    .as_deref()
                    .is_some_and(|n| g.members.iter().any(|m| m == n))
            } else if let Some(gid) = gid_arg {
                g.gid == gid
            } else {
                g.name == group_arg.as_bytes()
            }
        });
        if !group_arg.is_empty() {
            match wanted.clone().next() {
                Some(g) => gid = g.gid,
                None => {
                    let Some(g) = gid_arg else {
                        return Err(format!(
                            "unable to find group {group_arg}: no matching entries in group file"
                        ));
                    };
                    if !(0..=MAX_ID).contains(&g) {
                        return Err(RANGE_ERROR.into());
                    }
                    gid = g;
                }
            }
        } else {
            supplementary = wanted.map(|g| g.gid as u32).collect();
        }
    }
    // The daemon converts with Go's uint32(): an entry's out-of-range id wraps.
    uid &= 0xffff_ffff;
    gid &= 0xffff_ffff;
    Ok(ExecUser {
        uid: uid as u32,
        gid: gid as u32,
        supplementary_gids: supplementary,
    })
}

struct PasswdEntry {
    name: Vec<u8>,
    uid: i64,
    gid: i64,
}

struct GroupEntry {
    name: Vec<u8>,
    gid: i64,
    members: Vec<Vec<u8>>,
}

/// `ParsePasswdFilter`: every non-blank line is an entry (a `#` line too), fields by `:`.
fn passwd_entries(file: DbFile<'_>) -> Result<Vec<PasswdEntry>, &'static str> {
    let bytes = match file {
        DbFile::Absent => return Ok(Vec::new()),
        DbFile::Directory => return Err("read /etc/passwd: is a directory"),
        DbFile::Bytes(b) => b,
    };
    let mut out = Vec::new();
    for line in bytes.split(|&b| b == b'\n') {
        if line.len() >= MAX_PASSWD_LINE {
            return Err("bufio.Scanner: token too long");
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = trim_space(line);
        if line.is_empty() {
            continue;
        }
        let mut fields = line.split(|&b| b == b':');
        let name = fields.next().unwrap_or_default().to_vec();
        let _password = fields.next();
        let uid = fields.next().map_or(0, lenient_atoi);
        let gid = fields.next().map_or(0, lenient_atoi);
        out.push(PasswdEntry { name, uid, gid });
    }
    Ok(out)
}

/// `ParseGroupFilter`: blank and `#` lines skipped; `name:password:gid:member,member`.
fn group_entries(file: DbFile<'_>) -> Result<Vec<GroupEntry>, &'static str> {
    let bytes = match file {
        DbFile::Absent => return Ok(Vec::new()),
        DbFile::Directory => return Err("read /etc/group: is a directory"),
        DbFile::Bytes(b) => b,
    };
    let mut out = Vec::new();
    for line in bytes.split(|&b| b == b'\n') {
        let line = trim_space(line);
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        let mut fields = line.split(|&b| b == b':');
        let name = fields.next().unwrap_or_default().to_vec();
        let _password = fields.next();
        let gid = fields.next().map_or(0, lenient_atoi);
        let members = match fields.next() {
            Some(list) if !list.is_empty() => {
                list.split(|&b| b == b',').map(<[u8]>::to_vec).collect()
            }
            _ => Vec::new(),
        };
        out.push(GroupEntry { name, gid, members });
    }
    Ok(out)
}

/// Go's `bytes.TrimSpace`: Unicode white space at both ends (Rust's `char::is_whitespace` is the
/// same set); on bytes that are not UTF-8, ASCII white space including `\v`.
fn trim_space(line: &[u8]) -> &[u8] {
    match std::str::from_utf8(line) {
        Ok(s) => s.trim().as_bytes(),
        Err(_) => {
            let space = |b: &u8| matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ');
            let start = line.iter().position(|b| !space(b)).unwrap_or(line.len());
            let end = line
                .iter()
                .rposition(|b| !space(b))
                .map_or(start, |i| i + 1);
            &line[start..end]
        }
    }
}

/// Go's `strconv.Atoi` on a 64-bit machine: an optional sign and decimal digits; out of range is an
/// error whose value is clamped, any other error's value is 0.
fn atoi(s: &str) -> Result<i64, i64> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(0);
    }
    let magnitude: i128 = digits
        .bytes()
        .try_fold(0i128, |n, d| {
            n.checked_mul(10)?.checked_add(i128::from(d - b'0'))
        })
        .unwrap_or(i128::MAX);
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).map_err(|_| if negative { i64::MIN } else { i64::MAX })
}

/// An id field of an entry: Go assigns `Atoi`'s value whatever its error.
fn lenient_atoi(field: &[u8]) -> i64 {
    let s = std::str::from_utf8(field).unwrap_or("");
    atoi(s).unwrap_or_else(|v| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD_FILE: &[u8] = b"root:x:0:0:root:/root:/bin/sh\n\
        app:x:1234:1300::/app:/bin/sh\n\
        # not a comment to Moby:x:77:77\n\
        \tspaced:x:55:56\r\n";
    const GROUP_FILE: &[u8] =
        b"root:x:0:\n# a comment:x:9:app\nstaff:x:50:app,other\nappgrp:x:1300:\nextra:x:60:app\n";

    fn run(spec: &str) -> Result<ExecUser, String> {
        exec_user(spec, DbFile::Bytes(PASSWD_FILE), DbFile::Bytes(GROUP_FILE))
    }

    fn ids(uid: u32, gid: u32, sgids: &[u32]) -> Result<ExecUser, String> {
        Ok(ExecUser {
            uid,
            gid,
            supplementary_gids: sgids.to_vec(),
        })
    }

    #[test]
    fn a_name_takes_the_entry_ids_and_its_groups() {
        assert_eq!(run("app"), ids(1234, 1300, &[50, 60]));
        assert_eq!(run("app:staff"), ids(1234, 50, &[]));
        assert_eq!(run("app:77"), ids(1234, 77, &[]));
        assert_eq!(run("spaced"), ids(55, 56, &[]));
        assert_eq!(run("# not a comment to Moby"), ids(77, 77, &[]));
    }

    #[test]
    fn a_number_needs_no_entry_and_then_gets_group_0() {
        assert_eq!(run("1234"), ids(1234, 1300, &[50, 60]));
        assert_eq!(run("4242"), ids(4242, 0, &[]));
        assert_eq!(run("4242:4242"), ids(4242, 4242, &[]));
        assert_eq!(run("+7"), ids(7, 0, &[]));
        assert_eq!(run(""), ids(0, 0, &[]));
        assert_eq!(run(":staff"), ids(0, 50, &[]));
    }

    #[test]
    fn a_name_not_in_the_files_fails() {
        assert_eq!(
            run("nobody"),
            Err("unable to find user nobody: no matching entries in passwd file".into())
        );
        assert_eq!(
            run("app:wheel"),
            Err("unable to find group wheel: no matching entries in group file".into())
        );
        assert_eq!(
            run("-1"),
            Err("uids and gids must be in range 0-2147483647".into())
        );
        assert_eq!(
            run("1:2147483648"),
            Err("uids and gids must be in range 0-2147483647".into())
        );
    }

    #[test]
    fn without_passwd_even_root_fails_and_numbers_work() {
        let none = |spec| exec_user(spec, DbFile::Absent, DbFile::Absent);
        assert_eq!(
            none("root"),
            Err("unable to find user root: no matching entries in passwd file".into())
        );
        assert_eq!(none("0"), ids(0, 0, &[]));
        assert_eq!(none("4242:4242"), ids(4242, 4242, &[]));
        assert_eq!(
            none("4242:users"),
            Err("unable to find group users: no matching entries in group file".into())
        );
    }

    #[test]
    fn unreadable_files_fail_every_spec() {
        let dir = exec_user("4242:4242", DbFile::Directory, DbFile::Absent);
        assert_eq!(
            dir,
            Err("unable to find user 4242: read /etc/passwd: is a directory".into())
        );
        let mut long = b"root:x:0:0\n".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_PASSWD_LINE));
        assert_eq!(
            exec_user("0", DbFile::Bytes(&long), DbFile::Absent),
            Err("unable to find user 0: bufio.Scanner: token too long".into())
        );
        // One byte shorter fits the scanner's buffer with its newline.
        long.truncate(long.len() - 1);
        assert_eq!(
            exec_user("0", DbFile::Bytes(&long), DbFile::Absent),
            ids(0, 0, &[])
        );
        // The group file is read only when a group is wanted.
        assert_eq!(
            exec_user("4242:4242", DbFile::Absent, DbFile::Directory),
            Err("unable to find groups for spec : read /etc/group: is a directory".into())
        );
        assert_eq!(
            exec_user("4242", DbFile::Absent, DbFile::Directory),
            ids(4242, 0, &[])
        );
    }

    #[test]
    fn go_atoi() {
        assert_eq!(atoi("12"), Ok(12));
        assert_eq!(atoi("-12"), Ok(-12));
        assert_eq!(atoi("+0"), Ok(0));
        assert_eq!(atoi(""), Err(0));
        assert_eq!(atoi("1x"), Err(0));
        assert_eq!(atoi(" 1"), Err(0));
        assert_eq!(atoi("99999999999999999999"), Err(i64::MAX));
        assert_eq!(atoi("-99999999999999999999"), Err(i64::MIN));
    }

    #[test]
    fn reads_the_files_of_the_merged_view() {
        let fs = MergedFs::builder()
            .dir("/etc", 0o755)
            .file("/etc/passwd", 0o644, 0, 0, b"app:x:1234:1234::/:/bin/sh\n")
            .build();
        assert_eq!(
            resolve(&fs, "app"),
            UserLookup::Resolved(ExecUser {
                uid: 1234,
                gid: 1234,
                supplementary_gids: vec![]
            })
        );
        assert!(matches!(resolve(&fs, "db"), UserLookup::Fails(_)));
        let empty = MergedFs::builder().dir("/etc", 0o755).build();
        assert!(matches!(resolve(&empty, "root"), UserLookup::Fails(_)));
        // A passwd that is a symlink to a file indexing did not keep: no verdict.
        let linked = MergedFs::builder()
            .dir("/etc", 0o755)
            .dir("/usr", 0o755)
            .file("/usr/passwd", 0o644, 0, 0, b"app:x:1:1\n")
            .symlink("/etc/passwd", "/usr/passwd")
            .build();
        assert_eq!(resolve(&linked, "app"), UserLookup::Unknown);
    }
}
