//! VM size traits that decide pool settings: NVIDIA GPUs, InfiniBand (RDMA) and the temp disk Docker's
//! data root can move to. Known sizes come from `data/vm-sizes.toml`; others are read from Azure's size
//! naming convention (`Standard_<family><vCPUs><additive letters>[_<accelerator>]_v<N>`).

use std::sync::OnceLock;

use serde::Deserialize;

use crate::catalog::Architecture;

/// The size table, compiled in.
pub const VM_SIZES_TOML: &str = include_str!("../data/vm-sizes.toml");

/// The local temp disk of a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TempDisk {
    /// A temp disk the image mounts (`/mnt` on Ubuntu, `/mnt/resource` on the RHEL family).
    Scsi,
    /// Local NVMe only; Batch formats it and mounts `/mnt/resource`.
    Nvme,
    /// No local disk: everything stays on the OS disk.
    None,
}

/// Where a size's traits came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// Listed in `data/vm-sizes.toml`.
    Table,
    /// Read from the size name.
    Name,
}

/// What batchprep knows about a VM size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmTraits {
    /// NVIDIA GPUs (NC, ND, NV families).
    pub gpu: bool,
    /// The GPU model (`V100`, `T4`, `A10`, `A100`, `H100`), when known.
    pub gpu_model: Option<&'static str>,
    /// InfiniBand RDMA network (an `r` in H- and N-series sizes).
    pub infiniband: bool,
    /// The temp disk.
    pub temp_disk: TempDisk,
    /// The CPU architecture (a `p` among the additive letters: an Arm CPU, e.g. Cobalt 100's
    /// `Standard_D4ps_v6`).
    pub architecture: Architecture,
    /// Where these traits came from.
    pub source: Source,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SizeGroup {
    names: Vec<String>,
    gpu: bool,
    #[serde(default)]
    gpu_model: Option<String>,
    infiniband: bool,
    temp_disk: TempDisk,
    #[serde(default)]
    architecture: Architecture,
    /// Where the group's facts come from; required, so an entry without one does not load. Read
    /// only by the tests: the data carries its provenance, the code needs none of it.
    #[cfg_attr(not(test), allow(dead_code))]
    source: String,
    /// When they were last checked, `YYYY-MM`.
    #[cfg_attr(not(test), allow(dead_code))]
    as_of: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SizesFile {
    size: Vec<SizeGroup>,
}

fn table() -> &'static [SizeGroup] {
    static TABLE: OnceLock<Vec<SizeGroup>> = OnceLock::new();
    TABLE.get_or_init(|| {
        // Compiled in and parsed by a unit test: a failure is a build defect.
        toml::from_str::<SizesFile>(VM_SIZES_TOML)
            .expect("data/vm-sizes.toml is valid")
            .size
    })
}

/// The traits of `name` (case-insensitive), from the table or else from the name; `None` when the name
/// does not follow Azure's convention.
pub fn traits(name: &str) -> Option<VmTraits> {
    for group in table() {
        if group.names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return Some(VmTraits {
                gpu: group.gpu,
                gpu_model: group.gpu_model.as_deref(),
                infiniband: group.infiniband,
                temp_disk: group.temp_disk,
                architecture: group.architecture,
                source: Source::Table,
            });
        }
    }
    from_name(name)
}

/// GPU models that size names carry as their accelerator part.
const NAMED_GPUS: &[&str] = &["A10", "T4", "A100", "H100", "H200", "V100", "A10G", "M60"];

fn from_name(name: &str) -> Option<VmTraits> {
    let lower = name.to_ascii_lowercase();
    let rest = lower.strip_prefix("standard_")?;
    let mut parts = rest.split('_');
    let head = parts.next()?;
    let version: u32 = rest
        .rsplit('_')
        .next()
        .and_then(|v| v.strip_prefix('v'))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let family: String = head
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let after_family = &head[family.len()..];
    let digits: String = after_family
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    if family.is_empty() || digits.is_empty() {
        return None;
    }
    let additive = &after_family[digits.len()..];
    let gpu = ["nc", "nd", "nv", "ng"]
        .iter()
        .any(|f| family.starts_with(f));
    let infiniband = (family.starts_with('h') || family.starts_with('n')) && additive.contains('r');
    let temp_disk = if additive.contains('d') {
        if version >= 6 {
            TempDisk::Nvme
        } else {
            TempDisk::Scsi
        }
    } else if version >= 4
        && !family.starts_with('h')
        && !family.starts_with('n')
        && !family.starts_with('l')
    {
        // From v4 on, general-purpose sizes without `d` have no temp disk.
        TempDisk::None
    } else {
        TempDisk::Scsi
    };
    // The accelerator part of the name (`Standard_NV36ads_A10_v5`), when it names one.
    let gpu_model = rest
        .split('_')
        .skip(1)
        .find_map(|part| NAMED_GPUS.iter().find(|m| m.eq_ignore_ascii_case(part)))
        .copied();
    Some(VmTraits {
        gpu,
        gpu_model: gpu_model.filter(|_| gpu),
        infiniband,
        temp_disk,
        // Azure's naming convention: `p` is an Arm CPU.
        architecture: if additive.contains('p') {
            Architecture::Arm64
        } else {
            Architecture::Amd64
        },
        source: Source::Name,
    })
}

/// Why Batch refuses a size, when it does: `STANDARD_A0` and the premium-storage-only GS, DS and DSv2
/// series (the `vmSize` description in the data-plane schema).
pub fn unsupported_reason(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let rest = lower.strip_prefix("standard_")?;
    if rest == "a0" {
        return Some("Batch does not support STANDARD_A0");
    }
    let family: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let version = rest.rsplit('_').next().filter(|v| v.starts_with('v'));
    match (family.as_str(), version) {
        ("gs", _) => Some("Batch does not support the premium-storage-only GS series"),
        ("ds", None) | ("ds", Some("v2")) => {
            Some("Batch does not support the premium-storage-only DS and DSv2 series")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for g in table() {
            for n in &g.names {
                assert!(seen.insert(n.to_ascii_lowercase()), "{n} listed twice");
                // The name reader must agree with the table on GPU and InfiniBand.
                let by_name = from_name(n).unwrap();
                assert_eq!(
                    (by_name.gpu, by_name.infiniband, by_name.architecture),
                    (g.gpu, g.infiniband, g.architecture),
                    "{n}"
                );
                // A model the name carries is the table's.
                if let Some(model) = by_name.gpu_model {
                    assert_eq!(Some(model), g.gpu_model.as_deref(), "{n}");
                }
                assert_eq!(
                    g.gpu,
                    g.gpu_model.is_some(),
                    "{n}: a GPU size names its model"
                );
            }
        }
    }

    #[test]
    fn every_size_group_names_its_source_and_when_it_was_checked() {
        for g in table() {
            assert!(!g.source.trim().is_empty(), "{:?}: no source", g.names);
            assert!(
                crate::catalog::is_year_month(&g.as_of),
                "{:?}: as-of `{}`",
                g.names,
                g.as_of
            );
        }
        // A group without a source is not read at all.
        let without = "[[size]]\nnames = [\"Standard_X1\"]\ngpu = false\ninfiniband = false\ntemp-disk = \"none\"\nas-of = \"2026-06\"\n";
        assert!(toml::from_str::<SizesFile>(without).is_err());
    }

    #[test]
    fn known_and_inferred_sizes() {
        let nc = traits("standard_nc6s_v3").unwrap();
        assert_eq!(
            (nc.gpu, nc.infiniband, nc.temp_disk, nc.source),
            (true, false, TempDisk::Scsi, Source::Table)
        );
        let hb = traits("Standard_HB120rs_v3").unwrap();
        assert!(hb.infiniband && !hb.gpu);
        let guess = traits("Standard_D32ds_v5").unwrap();
        assert_eq!(
            (guess.temp_disk, guess.source),
            (TempDisk::Scsi, Source::Name)
        );
        assert_eq!(
            traits("Standard_D32s_v6").unwrap().temp_disk,
            TempDisk::None
        );
        assert_eq!(
            traits("Standard_D32ds_v6").unwrap().temp_disk,
            TempDisk::Nvme
        );
        assert!(traits("Standard_ND96isr_H100_v5").unwrap().infiniband);
        assert_eq!(traits("Standard_NC6s_v3").unwrap().gpu_model, Some("V100"));
        let a10 = traits("Standard_NV72ads_A10_v5").unwrap();
        assert_eq!((a10.gpu_model, a10.source), (Some("A10"), Source::Name));
        assert_eq!(traits("Standard_NC16s_v3").unwrap().gpu_model, None);
        assert!(traits("Standard_HB60-45rs").unwrap().infiniband);
        assert_eq!(traits("Large"), None);
        let cobalt = traits("Standard_D4ps_v6").unwrap();
        assert_eq!(
            (cobalt.architecture, cobalt.temp_disk, cobalt.source),
            (Architecture::Arm64, TempDisk::None, Source::Table)
        );
        assert_eq!(
            traits("Standard_E96pds_v6").unwrap().architecture,
            Architecture::Arm64
        );
        assert_eq!(
            traits("Standard_D4ds_v5").unwrap().architecture,
            Architecture::Amd64
        );
    }

    #[test]
    fn unsupported_sizes() {
        assert!(unsupported_reason("STANDARD_A0").is_some());
        assert!(unsupported_reason("Standard_DS3_v2").is_some());
        assert!(unsupported_reason("Standard_GS2").is_some());
        assert_eq!(unsupported_reason("Standard_D2s_v3"), None);
        assert_eq!(unsupported_reason("Standard_DS2_v3"), None);
    }
}
