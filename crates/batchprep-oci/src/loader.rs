//! Where the dynamic loader named by a program's `PT_INTERP` looks for its `DT_NEEDED` libraries,
//! inside the image. glibc's `ld.so`: `DT_RPATH` (only without `DT_RUNPATH`), `LD_LIBRARY_PATH`,
//! `DT_RUNPATH`, then `/etc/ld.so.cache`, then its built-in directories (it never reads
//! `ld.so.conf` itself: that is ldconfig's input for the cache). musl's: `LD_LIBRARY_PATH`, the
//! run paths, then `/etc/ld-musl-ARCH.path`, else `/lib:/usr/local/lib:/usr/lib`; it is libc, so
//! `libc.so`, `libm.so`, `libpthread.so`... are itself. Only the program's own libraries are
//! checked, not the libraries' dependencies.

use crate::exec::{Captured, ElfFacts, cache_flags_accepted, parse_ld_so_cache};
use crate::fs::{MergedFs, normalise};

/// Which C library's loader a program asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Libc {
    /// glibc's `ld-linux*.so.*`.
    Glibc,
    /// musl's `ld-musl-ARCH.so.1`.
    Musl {
        /// `ARCH` (`x86_64`).
        arch: String,
    },
}

impl Libc {
    /// The C library a `PT_INTERP` path names.
    pub fn of_interpreter(interpreter: &str) -> Libc {
        let file = interpreter.rsplit('/').next().unwrap_or("");
        match file
            .strip_prefix("ld-musl-")
            .and_then(|r| r.strip_suffix(".so.1"))
        {
            Some(arch) => Libc::Musl {
                arch: arch.to_owned(),
            },
            None => Libc::Glibc,
        }
    }
}

/// What the loader's search for one library ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibrarySearch {
    /// Found at this path (or provided by the loader itself).
    Found(String),
    /// Not found; every place looked, in order.
    Missing {
        /// Directories and files looked in, in the loader's order (`/etc/ld.so.cache` among them).
        looked: Vec<String>,
        /// An `ld.so.conf` directory that has it although the cache does not list it.
        uncached: Option<String>,
    },
    /// The search depends on something not modelled (`$LIB`, `$PLATFORM`): no verdict.
    Unknown,
}

/// Searches `name`, a `DT_NEEDED` entry of the program at `program` (its real path) described by
/// `elf`, the way its loader would; `ld_library_path` is the container's `LD_LIBRARY_PATH`.
pub fn find_library(
    fs: &MergedFs,
    program: &str,
    elf: &ElfFacts,
    ld_library_path: Option<&str>,
    name: &str,
) -> LibrarySearch {
    let interpreter = elf.interpreter.as_deref().unwrap_or("");
    let is_file = |p: &str| {
        fs.resolve_entry(p)
            .is_some_and(|(_, e)| e.kind == crate::EntryKind::File)
    };
    if name.contains('/') {
        return if is_file(name) {
            LibrarySearch::Found(normalise(name))
        } else {
            LibrarySearch::Missing {
                looked: vec![normalise(name)],
                uncached: None,
            }
        };
    }
    // The loader is loaded already: a program may list it by its soname.
    if interpreter.rsplit('/').next() == Some(name) {
        return LibrarySearch::Found(interpreter.to_owned());
    }
    let origin = crate::layer::parent_of(program).to_owned();
    let mut dirs: Vec<String> = Vec::new();
    let mut unknown = false;
    let mut add = |list: Option<&str>, dirs: &mut Vec<String>| {
        for dir in list
            .unwrap_or("")
            .split([':', ';'])
            .filter(|d| !d.is_empty())
        {
            let expanded = dir
                .replace("${ORIGIN}", &origin)
                .replace("$ORIGIN", &origin);
            if expanded.contains('$') {
                unknown = true;
            } else if expanded.starts_with('/') {
                dirs.push(normalise(&expanded));
            }
        }
    };
    let libc = Libc::of_interpreter(interpreter);
    let search = |dirs: &[String]| {
        dirs.iter()
            .map(|d| crate::layer::join(d, name))
            .find(|p| is_file(p))
    };
    match libc {
        Libc::Musl { arch } => {
            const BUILTIN: &[&str] = &["c", "pthread", "rt", "m", "dl", "util", "xnet"];
            let stem = name.strip_prefix("lib").and_then(|r| r.split('.').next());
            if name.starts_with("libc.musl-") || stem.is_some_and(|s| BUILTIN.contains(&s)) {
                return LibrarySearch::Found(interpreter.to_owned());
            }
            add(ld_library_path, &mut dirs);
            add(elf.rpath.as_deref(), &mut dirs);
            add(elf.runpath.as_deref(), &mut dirs);
            let path_file = format!("/etc/ld-musl-{arch}.path");
            let system = match fs.captured(&path_file) {
                Some(Captured::Config(bytes)) => String::from_utf8_lossy(bytes).replace('\n', ":"),
                _ => "/lib:/usr/local/lib:/usr/lib".to_owned(),
            };
            add(Some(&system), &mut dirs);
            if let Some(found) = search(&dirs) {
                return LibrarySearch::Found(found);
            }
            if unknown {
                return LibrarySearch::Unknown;
            }
            LibrarySearch::Missing {
                looked: dirs,
                uncached: None,
            }
        }
        Libc::Glibc => {
            if elf.runpath.is_none() {
                add(elf.rpath.as_deref(), &mut dirs);
            }
            add(ld_library_path, &mut dirs);
            add(elf.runpath.as_deref(), &mut dirs);
            if let Some(found) = search(&dirs) {
                return LibrarySearch::Found(found);
            }
            let mut looked = dirs;
            if let Some(Captured::Config(bytes)) = fs.captured("/etc/ld.so.cache") {
                let hit = parse_ld_so_cache(bytes).into_iter().flatten().find(|e| {
                    e.name == name
                        && cache_flags_accepted(elf.machine, elf.class, e.flags)
                        && is_file(&e.path)
                });
                if let Some(e) = hit {
                    return LibrarySearch::Found(e.path);
                }
                looked.push("/etc/ld.so.cache".to_owned());
            }
            let system = system_dirs(elf);
            if let Some(found) = search(&system) {
                return LibrarySearch::Found(found);
            }
            looked.extend(system);
            if unknown {
                return LibrarySearch::Unknown;
            }
            let uncached = search(&ld_so_conf_dirs(fs));
            LibrarySearch::Missing { looked, uncached }
        }
    }
}

/// glibc's built-in directories for the program's machine: the multiarch ones Debian and Ubuntu
/// build in, the `lib64` ones other distributions use, and `/lib`, `/usr/lib`.
fn system_dirs(elf: &ElfFacts) -> Vec<String> {
    use object::elf as e;
    let triplet = match elf.machine {
        e::EM_X86_64 => Some("x86_64-linux-gnu"),
        e::EM_AARCH64 => Some("aarch64-linux-gnu"),
        e::EM_386 => Some("i386-linux-gnu"),
        e::EM_ARM => Some("arm-linux-gnueabihf"),
        e::EM_PPC64 => Some("powerpc64le-linux-gnu"),
        e::EM_S390 => Some("s390x-linux-gnu"),
        e::EM_RISCV => Some("riscv64-linux-gnu"),
        _ => None,
    };
    let mut dirs = Vec::new();
    if let Some(t) = triplet {
        dirs.push(format!("/lib/{t}"));
        dirs.push(format!("/usr/lib/{t}"));
    }
    if elf.class == 64 {
        dirs.push("/lib64".to_owned());
        dirs.push("/usr/lib64".to_owned());
    }
    dirs.push("/lib".to_owned());
    dirs.push("/usr/lib".to_owned());
    dirs
}

/// The directories `/etc/ld.so.conf` names, following `include` globs of the form `DIR/*.conf`.
fn ld_so_conf_dirs(fs: &MergedFs) -> Vec<String> {
    let mut dirs = Vec::new();
    let mut files = vec!["/etc/ld.so.conf".to_owned()];
    let mut read = 0;
    while let Some(file) = files.pop() {
        read += 1;
        if read > 64 {
            break;
        }
        let Some(Captured::Config(bytes)) = fs.captured(&file) else {
            continue;
        };
        for line in String::from_utf8_lossy(bytes).lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some(pattern) = line.strip_prefix("include") {
                let pattern = pattern.trim();
                let (dir, glob) = pattern.rsplit_once('/').unwrap_or(("/etc", pattern));
                let suffix = glob.strip_prefix('*').unwrap_or(glob);
                let mut matched: Vec<String> = fs
                    .captured_config_paths()
                    .filter(|p| crate::layer::parent_of(p) == dir && p.ends_with(suffix))
                    .map(str::to_owned)
                    .collect();
                matched.sort();
                files.extend(matched);
            } else if line.starts_with('/') {
                dirs.push(normalise(line));
            }
        }
    }
    dirs
}
