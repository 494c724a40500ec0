//! What `execve` and the dynamic loader will read from an image, captured while its layers stream:
//! for every executable ELF file its class, machine, type, `PT_INTERP` and dynamic entries
//! (`DT_NEEDED`, `DT_RUNPATH`, `DT_RPATH`), and the bytes of the few files the loaders read
//! (`/etc/ld.so.cache`, `/etc/ld.so.conf` and its includes, musl's `/etc/ld-musl-ARCH.path`) and
//! the daemon reads to resolve `--user` (`/etc/passwd`, `/etc/group`).
//! Only these small facts are kept: an ELF file is buffered up to the end of its dynamic section
//! (at most [`ELF_READ_MAX`]) while it streams past, parsed with `object`, and dropped.

use std::io::{self, Read};

use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader};
use serde::{Deserialize, Serialize};

/// The most of one ELF file read to find its dynamic section; beyond it the libraries are unknown.
pub const ELF_READ_MAX: u64 = 32 << 20;
/// The most of a configuration file kept (a loader's, or the user database).
pub const CONFIG_MAX: u64 = 4 << 20;

/// What one captured file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Captured {
    /// An executable ELF file's exec facts.
    Elf(ElfFacts),
    /// A configuration file's bytes: a loader's, or the user database.
    Config(Vec<u8>),
}

/// A captured file of one layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapturedFile {
    /// Its normalised path.
    pub path: String,
    /// What was captured.
    pub content: Captured,
}

/// What the kernel and the dynamic loader read from an ELF file's headers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElfFacts {
    /// 32 or 64.
    pub class: u8,
    /// `e_machine` (`EM_X86_64` = 62, `EM_AARCH64` = 183, ...).
    pub machine: u16,
    /// `e_type` (`ET_EXEC` = 2, `ET_DYN` = 3, ...).
    pub kind: u16,
    /// The `PT_INTERP` loader path, when the file asks for one.
    pub interpreter: Option<String>,
    /// `DT_NEEDED` libraries, in order.
    pub needed: Vec<String>,
    /// `DT_RUNPATH`, as stored (`$ORIGIN/../lib:/opt/lib`).
    pub runpath: Option<String>,
    /// `DT_RPATH`, as stored.
    pub rpath: Option<String>,
    /// Set when the headers could not be read in full (truncated file, beyond [`ELF_READ_MAX`], or
    /// malformed): the fields above may be incomplete, and no rule should rely on their absence.
    pub incomplete: bool,
}

impl ElfFacts {
    /// The machine's name as people and `uname -m` know it (`x86_64`, `aarch64`), or `EM_<n>`.
    pub fn machine_name(&self) -> String {
        machine_name(self.machine)
    }

    /// The `e_type` in words.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            elf::ET_REL => "relocatable object (ET_REL)",
            elf::ET_EXEC => "executable (ET_EXEC)",
            elf::ET_DYN => "shared object (ET_DYN)",
            elf::ET_CORE => "core dump (ET_CORE)",
            _ => "unknown ELF type",
        }
    }
}

/// `e_machine` in words.
pub fn machine_name(machine: u16) -> String {
    match machine {
        elf::EM_X86_64 => "x86_64".into(),
        elf::EM_AARCH64 => "aarch64".into(),
        elf::EM_386 => "i386".into(),
        elf::EM_ARM => "arm".into(),
        elf::EM_PPC64 => "ppc64".into(),
        elf::EM_S390 => "s390x".into(),
        elf::EM_RISCV => "riscv".into(),
        other => format!("EM_{other}"),
    }
}

/// The `e_machine` a Linux node of OCI architecture `arch` runs natively, when known.
pub fn machine_of_architecture(arch: &str) -> Option<u16> {
    Some(match arch {
        "amd64" => elf::EM_X86_64,
        "arm64" => elf::EM_AARCH64,
        "386" => elf::EM_386,
        "arm" => elf::EM_ARM,
        "ppc64le" | "ppc64" => elf::EM_PPC64,
        "s390x" => elf::EM_S390,
        "riscv64" => elf::EM_RISCV,
        _ => return None,
    })
}

/// Whether a layer's regular file at `path` is configuration that is kept: a loader's, or the
/// user database the daemon resolves `--user` with.
pub fn is_captured_config(path: &str) -> bool {
    is_loader_config(path) || path == crate::user_db::PASSWD || path == crate::user_db::GROUP
}

/// Whether a layer's regular file at `path` is one a loader reads as configuration.
pub fn is_loader_config(path: &str) -> bool {
    path == "/etc/ld.so.cache"
        || path == "/etc/ld.so.conf"
        || (path.starts_with("/etc/ld.so.conf.d/") && path.ends_with(".conf"))
        || (path.starts_with("/etc/ld-musl-") && path.ends_with(".path"))
}

/// Captures what exec needs from a regular file while it streams: `start` is what was already read
/// of it, `rest` the remainder of its data, `size` its length. Returns `None` for files of no
/// interest (an executable that is not ELF: its first line is already kept).
pub fn capture(
    path: &str,
    executable: bool,
    size: u64,
    start: &[u8],
    rest: &mut impl Read,
) -> io::Result<Option<Captured>> {
    if executable && start.starts_with(b"\x7fELF") {
        return elf_facts(size, start, rest).map(|f| Some(Captured::Elf(f)));
    }
    if is_captured_config(path) {
        let mut bytes = start.to_vec();
        rest.take(CONFIG_MAX.saturating_sub(bytes.len() as u64))
            .read_to_end(&mut bytes)?;
        return Ok(Some(Captured::Config(bytes)));
    }
    Ok(None)
}

/// Reads an ELF file's headers from its stream, as far as its dynamic section and string table.
fn elf_facts(size: u64, start: &[u8], rest: &mut impl Read) -> io::Result<ElfFacts> {
    let limit = size.min(ELF_READ_MAX);
    let mut data = start.to_vec();
    // The ELF header and program headers sit at the start (e_phoff is 64 on every linker).
    fill(&mut data, 4096.min(limit), rest)?;
    let mut want = 0;
    for _ in 0..3 {
        let facts = parse(&data, &mut want);
        if want as u64 <= data.len() as u64 || want as u64 > limit {
            let mut facts = facts;
            facts.incomplete |= want as u64 > data.len() as u64;
            return Ok(facts);
        }
        fill(&mut data, want as u64, rest)?;
    }
    let mut facts = parse(&data, &mut want);
    facts.incomplete |= want > data.len();
    Ok(facts)
}

fn fill(data: &mut Vec<u8>, to: u64, rest: &mut impl Read) -> io::Result<()> {
    let have = data.len() as u64;
    if to > have {
        rest.take(to - have).read_to_end(data)?;
    }
    Ok(())
}

/// Parses what `data` holds; sets `want` to how many bytes a complete answer needs.
fn parse(data: &[u8], want: &mut usize) -> ElfFacts {
    // e_ident[EI_CLASS], the fifth byte.
    let class = data.get(4).copied().unwrap_or(0);
    let mut facts = ElfFacts {
        class: if class == elf::ELFCLASS64 { 64 } else { 32 },
        machine: 0,
        kind: 0,
        interpreter: None,
        needed: Vec::new(),
        runpath: None,
        rpath: None,
        incomplete: false,
    };
    let parsed = if class == elf::ELFCLASS64 {
        parse_with::<elf::FileHeader64<object::Endianness>>(data, want, &mut facts)
    } else {
        parse_with::<elf::FileHeader32<object::Endianness>>(data, want, &mut facts)
    };
    if parsed.is_none() {
        facts.incomplete = true;
    }
    facts
}

fn parse_with<H: FileHeader<Endian = object::Endianness>>(
    data: &[u8],
    want: &mut usize,
    facts: &mut ElfFacts,
) -> Option<()> {
    let header = H::parse(data).ok()?;
    let endian = header.endian().ok()?;
    facts.machine = header.e_machine(endian);
    facts.kind = header.e_type(endian);
    let phoff: u64 = header.e_phoff(endian).into();
    let phend =
        phoff as usize + header.e_phnum(endian) as usize * header.e_phentsize(endian) as usize;
    *want = (*want).max(phend);
    let phdrs = header.program_headers(endian, data).ok()?;
    let end = |ph: &H::ProgramHeader| -> usize {
        let off: u64 = ph.p_offset(endian).into();
        let len: u64 = ph.p_filesz(endian).into();
        (off + len) as usize
    };
    let mut dynamic = None;
    for ph in phdrs {
        match ph.p_type(endian) {
            elf::PT_INTERP => {
                *want = (*want).max(end(ph));
                if let Ok(Some(path)) = ph.interpreter(endian, data) {
                    facts.interpreter = Some(String::from_utf8_lossy(path).into_owned());
                }
            }
            elf::PT_DYNAMIC => {
                *want = (*want).max(end(ph));
                dynamic = ph.dynamic(endian, data).ok().flatten();
            }
            _ => {}
        }
    }
    let Some(dynamic) = dynamic else {
        return Some(());
    };
    let (mut strtab, mut strsz) = (None, 0u64);
    for d in dynamic {
        match d.tag32(endian) {
            Some(elf::DT_NULL) => break,
            Some(elf::DT_STRTAB) => strtab = Some(d.d_val(endian).into()),
            Some(elf::DT_STRSZ) => strsz = d.d_val(endian).into(),
            _ => {}
        }
    }
    // DT_STRTAB is an address: the PT_LOAD segment that maps it gives its file offset.
    let strtab_off = strtab.and_then(|addr: u64| {
        phdrs.iter().find_map(|ph| {
            let vaddr: u64 = ph.p_vaddr(endian).into();
            let filesz: u64 = ph.p_filesz(endian).into();
            let offset: u64 = ph.p_offset(endian).into();
            (ph.p_type(endian) == elf::PT_LOAD && addr >= vaddr && addr < vaddr + filesz)
                .then(|| offset + (addr - vaddr))
        })
    })?;
    *want = (*want).max((strtab_off + strsz) as usize);
    let strings = data.get(strtab_off as usize..)?;
    let string = |at: u64| -> Option<String> {
        let s = strings.get(at as usize..)?;
        let n = s.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&s[..n]).into_owned())
    };
    for d in dynamic {
        let value: u64 = d.d_val(endian).into();
        match d.tag32(endian) {
            Some(elf::DT_NULL) => break,
            Some(elf::DT_NEEDED) => facts.needed.push(string(value)?),
            Some(elf::DT_RUNPATH) => facts.runpath = Some(string(value)?),
            Some(elf::DT_RPATH) => facts.rpath = Some(string(value)?),
            _ => {}
        }
    }
    Some(())
}

/// One `/etc/ld.so.cache` entry: a library name, the path ldconfig found it at, and its flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// The soname (`libc.so.6`).
    pub name: String,
    /// Where it is (`/lib/x86_64-linux-gnu/libc.so.6`).
    pub path: String,
    /// The entry's flags (`FLAG_ELF_LIBC6 | FLAG_X8664_LIB64` = 0x0303 on x86_64).
    pub flags: i32,
}

const CACHEMAGIC: &[u8] = b"ld.so-1.7.0";
const CACHEMAGIC_NEW: &[u8] = b"glibc-ld.so.cache1.1";
/// `sizeof (struct cache_file)`: the 11-byte magic padded to 12, then `nlibs`.
const OLD_HEADER: usize = 16;
/// `sizeof (struct file_entry)`: flags, key, value.
const OLD_ENTRY: usize = 12;
/// `sizeof (struct cache_file_new)`: 20-byte magic and version, nlibs, len_strings, 20 more bytes.
const NEW_HEADER: usize = 48;
/// `sizeof (struct file_entry_new)`: flags, key, value, osversion, hwcap.
const NEW_ENTRY: usize = 24;

/// Parses an `/etc/ld.so.cache` as glibc's `elf/dl-cache.c` reads it: the new format alone
/// (`glibc-ld.so.cache1.1`, string offsets from its header), or the old `ld.so-1.7.0` format
/// (string offsets from the end of its entries) with, when present, the new one embedded after it
/// at the next 8-byte boundary, which glibc prefers. Little-endian caches only; `None` when the
/// bytes are no cache.
pub fn parse_ld_so_cache(data: &[u8]) -> Option<Vec<CacheEntry>> {
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
    };
    let string = |at: usize| -> Option<String> {
        let s = data.get(at..)?;
        let n = s.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&s[..n]).into_owned())
    };
    let new_at = |base: usize| -> Option<Vec<CacheEntry>> {
        let nlibs = u32_at(base + 20)? as usize;
        (0..nlibs)
            .map(|i| {
                let e = base + NEW_HEADER + i * NEW_ENTRY;
                Some(CacheEntry {
                    flags: u32_at(e)? as i32,
                    name: string(base + u32_at(e + 4)? as usize)?,
                    path: string(base + u32_at(e + 8)? as usize)?,
                })
            })
            .collect()
    };
    if data.starts_with(CACHEMAGIC_NEW) {
        return new_at(0);
    }
    if !data.starts_with(CACHEMAGIC) {
        return None;
    }
    let nlibs = u32_at(12)? as usize;
    let strings = OLD_HEADER.checked_add(nlibs.checked_mul(OLD_ENTRY)?)?;
    if strings > data.len() {
        return None;
    }
    let embedded = strings.next_multiple_of(8);
    if data.len() > embedded + NEW_HEADER && data[embedded..].starts_with(CACHEMAGIC_NEW) {
        return new_at(embedded);
    }
    (0..nlibs)
        .map(|i| {
            let e = OLD_HEADER + i * OLD_ENTRY;
            Some(CacheEntry {
                flags: u32_at(e)? as i32,
                name: string(strings + u32_at(e + 4)? as usize)?,
                path: string(strings + u32_at(e + 8)? as usize)?,
            })
        })
        .collect()
}

/// The cache flags glibc accepts for a program of `machine` and `class` (`_DL_CACHE_DEFAULT_ID`
/// of its port; 1 is a plain ELF entry every port accepts).
pub fn cache_flags_accepted(machine: u16, class: u8, flags: i32) -> bool {
    const FLAG_ELF_LIBC6: i32 = 0x0003;
    let default = match (machine, class) {
        (elf::EM_X86_64, 64) => FLAG_ELF_LIBC6 | 0x0300,
        (elf::EM_AARCH64, 64) => FLAG_ELF_LIBC6 | 0x0a00,
        (elf::EM_386, _) | (elf::EM_ARM, _) => FLAG_ELF_LIBC6,
        (elf::EM_PPC64, _) => FLAG_ELF_LIBC6 | 0x0500,
        (elf::EM_S390, 64) => FLAG_ELF_LIBC6 | 0x0400,
        // Other ports: any entry (no false alarm from a flag we do not know).
        _ => return true,
    };
    // Bits 8-11 carry the ABI; higher bits (ISA levels) do not change the match.
    flags == 1 || flags & 0x0fff == default
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_cache(entries: &[(i32, &str, &str)]) -> Vec<u8> {
        let mut strings = Vec::new();
        let base = NEW_HEADER + entries.len() * NEW_ENTRY;
        let mut offsets = Vec::new();
        for (_, name, path) in entries {
            let n = base + strings.len();
            strings.extend_from_slice(name.as_bytes());
            strings.push(0);
            let p = base + strings.len();
            strings.extend_from_slice(path.as_bytes());
            strings.push(0);
            offsets.push((n as u32, p as u32));
        }
        let mut out = CACHEMAGIC_NEW.to_vec();
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        out.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        out.extend_from_slice(&[2, 0, 0, 0]);
        out.extend_from_slice(&[0; 16]);
        for ((flags, ..), (n, p)) in entries.iter().zip(offsets) {
            out.extend_from_slice(&flags.to_le_bytes());
            out.extend_from_slice(&n.to_le_bytes());
            out.extend_from_slice(&p.to_le_bytes());
            out.extend_from_slice(&[0; 12]);
        }
        out.extend_from_slice(&strings);
        out
    }

    #[test]
    fn reads_the_new_cache_format() {
        let cache = new_cache(&[(0x303, "libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6")]);
        assert_eq!(
            parse_ld_so_cache(&cache),
            Some(vec![CacheEntry {
                name: "libc.so.6".into(),
                path: "/lib/x86_64-linux-gnu/libc.so.6".into(),
                flags: 0x303
            }])
        );
        assert!(cache_flags_accepted(elf::EM_X86_64, 64, 0x303));
        assert!(!cache_flags_accepted(elf::EM_AARCH64, 64, 0x303));
    }

    #[test]
    fn reads_the_old_format_and_prefers_an_embedded_new_one() {
        // Old format: one entry whose strings follow the entries.
        let mut old = CACHEMAGIC.to_vec();
        old.push(0);
        old.extend_from_slice(&1u32.to_le_bytes());
        old.extend_from_slice(&1i32.to_le_bytes());
        old.extend_from_slice(&0u32.to_le_bytes());
        // The value is the offset of the path: after "libm.so" and its NUL.
        old.extend_from_slice(&8u32.to_le_bytes());
        old.extend_from_slice(b"libm.so\0/lib/libm.so\0");
        let entries = parse_ld_so_cache(&old).unwrap();
        assert_eq!(
            (entries[0].name.as_str(), entries[0].path.as_str()),
            ("libm.so", "/lib/libm.so")
        );
        // The same header followed (at the 8-byte boundary after the entries) by a new cache.
        let mut both = old[..OLD_HEADER + OLD_ENTRY].to_vec();
        both.resize((OLD_HEADER + OLD_ENTRY).next_multiple_of(8), 0);
        both.extend_from_slice(&new_cache(&[(0x303, "libz.so.1", "/usr/lib/libz.so.1")]));
        let entries = parse_ld_so_cache(&both).unwrap();
        assert_eq!(entries[0].name, "libz.so.1");
        assert_eq!(parse_ld_so_cache(b"not a cache"), None);
    }

    #[test]
    fn reads_the_hosts_own_binaries() {
        // A real dynamically linked program of the host: it has a loader and needs libc.
        let data = std::fs::read("/bin/sh").unwrap();
        let facts = elf_facts(data.len() as u64, &data[..256], &mut &data[256..]).unwrap();
        assert!(!facts.incomplete, "{facts:?}");
        assert_eq!(facts.class, 64);
        assert!(facts.interpreter.as_deref().unwrap().contains("ld-linux"));
        assert!(
            facts.needed.iter().any(|n| n.starts_with("libc.so")),
            "{facts:?}"
        );
        let cache = std::fs::read("/etc/ld.so.cache").unwrap();
        let entries = parse_ld_so_cache(&cache).unwrap();
        assert!(entries.iter().any(|e| e.name == "libc.so.6"), "{entries:?}");
    }
}
