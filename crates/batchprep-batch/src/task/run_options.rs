//! `containerRunOptions`: the extra `docker create` flags a task adds to Batch's own. Only the flags
//! that change what runs, where and as whom are understood; the rest are kept verbatim so the
//! `docker create` line can still be reproduced.

use std::fmt;

use super::TaskError;

/// The parsed `containerRunOptions` of a task.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// The words as given, split like a shell without expansion.
    pub words: Vec<String>,
    /// `--workdir` / `-w`: the container working directory.
    pub workdir: Option<String>,
    /// `--entrypoint`: replaces the image ENTRYPOINT; `Some("")` clears it.
    pub entrypoint: Option<String>,
    /// `--user` / `-u`: `uid[:gid]` or a name.
    pub user: Option<String>,
    /// `--gpus`.
    pub gpus: Option<String>,
    /// `--rm`.
    pub rm: bool,
    /// `--runtime`.
    pub runtime: Option<String>,
    /// `-e` / `--env`, in order.
    pub env: Vec<String>,
    /// `-v` / `--volume`, in order.
    pub volumes: Vec<String>,
    /// `--network` / `--net`.
    pub network: Option<String>,
    /// Every other flag, with its value when it had one, in order.
    pub other: Vec<String>,
    /// Every flag as written, without its value (`--shm-size`, `-v`), in order: what the node
    /// agent's own parser is asked to accept.
    pub flags: Vec<String>,
}

/// The run options the Batch node agent is known to accept, each with its other spelling. The agent
/// parses `containerRunOptions` itself and fails the task with `ContainerInvalidSettings` on an
/// option it does not know; its own list is not public, so this is what public clients are seen
/// using with it (DESIGN §7). The long spelling of a short option seen there (`--volume` for `-v`)
/// is taken to be accepted too: that is an inference.
pub const AGENT_ACCEPTED: &[&[&str]] = &[
    &["-v", "--volume"],
    &["--mount"],
    &["-e", "--env"],
    &["--privileged"],
    &["--shm-size"],
    &["--ipc"],
    &["--cpu-shares"],
    &["--memory"],
    &["--rm"],
    &["-w", "--workdir"],
    &["--entrypoint"],
    &["--hostname"],
    &["-u", "--user"],
    &["--name"],
    &["-l", "--label"],
    &["-p", "--publish"],
];

/// Whether the node agent is known to accept `flag` (as written, without a value), or the user
/// says it does (`extra`).
pub fn agent_accepts(flag: &str, extra: &[String]) -> bool {
    AGENT_ACCEPTED
        .iter()
        .any(|spellings| spellings.contains(&flag))
        || extra.iter().any(|e| e == flag)
}

/// A flag this model understands: its long name, short name and whether it takes a value.
struct Known {
    long: &'static str,
    short: Option<char>,
    value: bool,
}

const KNOWN: &[Known] = &[
    Known {
        long: "workdir",
        short: Some('w'),
        value: true,
    },
    Known {
        long: "entrypoint",
        short: None,
        value: true,
    },
    Known {
        long: "user",
        short: Some('u'),
        value: true,
    },
    Known {
        long: "gpus",
        short: None,
        value: true,
    },
    Known {
        long: "rm",
        short: None,
        value: false,
    },
    Known {
        long: "runtime",
        short: None,
        value: true,
    },
    Known {
        long: "env",
        short: Some('e'),
        value: true,
    },
    Known {
        long: "volume",
        short: Some('v'),
        value: true,
    },
    Known {
        long: "network",
        short: None,
        value: true,
    },
    Known {
        long: "net",
        short: None,
        value: true,
    },
];

impl RunOptions {
    /// Parses `containerRunOptions` as `docker create` would read its flags.
    pub fn parse(text: &str) -> Result<RunOptions, TaskError> {
        let words =
            shlex::split(text).ok_or_else(|| TaskError::RunOptionsQuoting(text.to_owned()))?;
        let mut opts = RunOptions {
            words: words.clone(),
            ..RunOptions::default()
        };
        let mut iter = words.into_iter().peekable();
        while let Some(word) = iter.next() {
            opts.flags.push(flag_name(&word));
            let Some((known, inline)) = classify(&word) else {
                if !word.starts_with('-') {
                    return Err(TaskError::RunOptionsPositional(word));
                }
                opts.other.push(word);
                // An unknown flag's value cannot be told apart from the flag itself, except that
                // every run option is a flag: a following non-flag word belongs to it.
                if let Some(next) = iter.next_if(|w| !w.starts_with('-')) {
                    opts.other.push(next);
                }
                continue;
            };
            let rm = inline.as_deref() != Some("false");
            let value = if known.value {
                match inline {
                    Some(v) => Some(v),
                    None => Some(
                        iter.next()
                            .ok_or_else(|| TaskError::RunOptionsMissingValue(word.clone()))?,
                    ),
                }
            } else {
                None
            };
            match known.long {
                "workdir" => opts.workdir = value,
                "entrypoint" => opts.entrypoint = value,
                "user" => opts.user = value,
                "gpus" => opts.gpus = value,
                "rm" => opts.rm = rm,
                "runtime" => opts.runtime = value,
                "env" => opts.env.extend(value),
                "volume" => opts.volumes.extend(value),
                _ => opts.network = value,
            }
        }
        Ok(opts)
    }

    /// The options with `$NAME` and `${NAME}` in their values expanded through `lookup`, as the node
    /// agent expands them before Docker sees them (DESIGN §7: Batch Shipyard's native mode relied on
    /// `-w $AZ_BATCH_TASK_WORKING_DIR`). `words` stay as written.
    pub fn expanded(&self, lookup: &dyn Fn(&str) -> Option<String>) -> RunOptions {
        let one = |v: &String| expand_variables(v, lookup);
        RunOptions {
            workdir: self.workdir.as_ref().map(one),
            entrypoint: self.entrypoint.as_ref().map(one),
            user: self.user.as_ref().map(one),
            env: self.env.iter().map(one).collect(),
            volumes: self.volumes.iter().map(one).collect(),
            ..self.clone()
        }
    }

    /// Whether no run options were given.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The text with the known flags `remove` (and their values) taken out and the words `append`
    /// added at the end, the other words kept in order and, when nothing needs quoting, as written.
    pub fn edited(&self, remove: &[&str], append: &[String]) -> String {
        let mut kept: Vec<&str> = Vec::new();
        let mut words = self.words.iter();
        while let Some(word) = words.next() {
            match classify(word) {
                Some((known, inline)) if remove.contains(&known.long) => {
                    if known.value && inline.is_none() {
                        words.next();
                    }
                }
                _ => kept.push(word),
            }
        }
        kept.extend(append.iter().map(String::as_str));
        // Unchanged words keep their spelling when nothing needed quoting.
        if kept.iter().all(|w| quote_words(&[w]) == *w) {
            kept.join(" ")
        } else {
            quote_words(&kept)
        }
    }
}

/// The flag of `word` without an inline value: `--shm-size=1g` -> `--shm-size`, `-w/app` -> `-w`.
fn flag_name(word: &str) -> String {
    if word.starts_with("--") {
        return word.split_once('=').map_or(word, |(n, _)| n).to_owned();
    }
    // A short flag that takes a value may have it glued on; one that does not is the whole word
    // (`-it` is two flags Docker would split, and neither is one the model knows).
    match classify(word) {
        Some((known, _)) if known.value || word.len() == 2 => word[..2].to_owned(),
        _ => word.to_owned(),
    }
}

/// The known flag `word` is, and its inline value (`--workdir=/app`, `-w/app`).
fn classify(word: &str) -> Option<(&'static Known, Option<String>)> {
    if let Some(long) = word.strip_prefix("--") {
        let (name, inline) = match long.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (long, None),
        };
        return KNOWN.iter().find(|k| k.long == name).map(|k| (k, inline));
    }
    let mut chars = word.strip_prefix('-')?.chars();
    let c = chars.next()?;
    let rest: String = chars.collect();
    let known = KNOWN.iter().find(|k| k.short == Some(c))?;
    let inline = if rest.is_empty() {
        None
    } else {
        Some(rest.strip_prefix('=').unwrap_or(&rest).to_owned())
    };
    Some((known, inline))
}

/// `text` with every `$NAME` and `${NAME}` that `lookup` knows replaced by its value; the others stay
/// as written.
pub fn expand_variables(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let braced = after.starts_with('{');
        let name_start = usize::from(braced);
        let name_len = after[name_start..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let name = &after[name_start..name_start + name_len];
        let end = name_start + name_len + usize::from(braced);
        let closed = !braced || after[name_start + name_len..].starts_with('}');
        let value = (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()) && closed)
            .then(|| lookup(name))
            .flatten();
        match value {
            Some(v) => {
                out.push_str(&v);
                rest = &after[end..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl fmt::Display for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&quote_words(&self.words))
    }
}

/// Joins words so a POSIX shell splits them back the same way.
pub fn quote_words<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quote_word(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote_word(w: &str) -> String {
    let plain = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edited_takes_flags_and_their_values_out_and_appends() {
        let o =
            RunOptions::parse("--rm --gpus all -v /d:/d --gpus=1 --rm=true --shm-size 1g").unwrap();
        assert_eq!(
            o.edited(&["gpus"], &[]),
            "--rm -v /d:/d --rm=true --shm-size 1g"
        );
        assert_eq!(
            o.edited(&["rm", "gpus"], &["--workdir=/app".into()]),
            "-v /d:/d --shm-size 1g --workdir=/app"
        );
        let quoted = RunOptions::parse("-e 'A=b c' --rm").unwrap();
        assert_eq!(quoted.edited(&["rm"], &[]), "-e 'A=b c'");
        assert_eq!(RunOptions::parse("--rm").unwrap().edited(&["rm"], &[]), "");
    }

    #[test]
    fn understands_the_flags_that_change_what_runs() {
        let o = RunOptions::parse(
            "--workdir /app --entrypoint=/bin/sh -u 1000:1000 --gpus all --rm --runtime nvidia \
             -e A=1 --env=B=2 -v /data:/data --volume=/x:/y --network host --shm-size 1g --init",
        )
        .unwrap();
        assert_eq!(o.workdir.as_deref(), Some("/app"));
        assert_eq!(o.entrypoint.as_deref(), Some("/bin/sh"));
        assert_eq!(o.user.as_deref(), Some("1000:1000"));
        assert_eq!(o.gpus.as_deref(), Some("all"));
        assert!(o.rm);
        assert_eq!(o.runtime.as_deref(), Some("nvidia"));
        assert_eq!(o.env, ["A=1", "B=2"]);
        assert_eq!(o.volumes, ["/data:/data", "/x:/y"]);
        assert_eq!(o.network.as_deref(), Some("host"));
        assert_eq!(o.other, ["--shm-size", "1g", "--init"]);
        assert_eq!(
            o.flags,
            [
                "--workdir",
                "--entrypoint",
                "-u",
                "--gpus",
                "--rm",
                "--runtime",
                "-e",
                "--env",
                "-v",
                "--volume",
                "--network",
                "--shm-size",
                "--init"
            ]
        );
    }

    #[test]
    fn short_flags_take_glued_values() {
        let o = RunOptions::parse("-w/app -eX=1 -u=0").unwrap();
        assert_eq!(o.workdir.as_deref(), Some("/app"));
        assert_eq!(o.env, ["X=1"]);
        assert_eq!(o.user.as_deref(), Some("0"));
        assert_eq!(o.flags, ["-w", "-e", "-u"]);
    }

    #[test]
    fn variables_in_values_are_expanded_and_unknown_ones_kept() {
        let lookup = |k: &str| (k == "AZ_BATCH_TASK_WORKING_DIR").then(|| "/mnt/wd".to_owned());
        assert_eq!(
            expand_variables(
                "$AZ_BATCH_TASK_WORKING_DIR/x:${AZ_BATCH_TASK_WORKING_DIR}",
                &lookup
            ),
            "/mnt/wd/x:/mnt/wd"
        );
        assert_eq!(
            expand_variables("$HOME ${AZ_BATCH_TASK_WORKING_DIR $1 5$", &lookup),
            "$HOME ${AZ_BATCH_TASK_WORKING_DIR $1 5$"
        );
        let o =
            RunOptions::parse("-w $AZ_BATCH_TASK_WORKING_DIR -v ${AZ_BATCH_TASK_WORKING_DIR}:/in")
                .unwrap()
                .expanded(&lookup);
        assert_eq!(o.workdir.as_deref(), Some("/mnt/wd"));
        assert_eq!(o.volumes, ["/mnt/wd:/in"]);
        assert_eq!(o.words[1], "$AZ_BATCH_TASK_WORKING_DIR");
    }

    #[test]
    fn an_empty_entrypoint_is_kept_as_empty() {
        let o = RunOptions::parse("--entrypoint ''").unwrap();
        assert_eq!(o.entrypoint.as_deref(), Some(""));
    }

    #[test]
    fn bad_run_options_name_the_problem() {
        assert_eq!(
            RunOptions::parse("--workdir").unwrap_err().to_string(),
            "containerRunOptions: `--workdir` needs a value"
        );
        assert_eq!(
            RunOptions::parse("--env 'A=1").unwrap_err().to_string(),
            "containerRunOptions: unbalanced quotes in `--env 'A=1`"
        );
        assert_eq!(
            RunOptions::parse("--rm myimage").unwrap_err().to_string(),
            "containerRunOptions: `myimage` is not a flag (the image and command line are set elsewhere)"
        );
    }

    #[test]
    fn quoting_round_trips() {
        let words = ["sh", "-c", "echo 'hi' there", "", "a$b"];
        let line = quote_words(&words);
        assert_eq!(line, r#"sh -c 'echo '\''hi'\'' there' '' 'a$b'"#);
        assert_eq!(shlex::split(&line).unwrap(), words);
    }
}
