//! The catalog of marketplace images Batch runs containers on, kept as data in
//! `data/node-images.toml`: which node agent each image pairs with, where Docker keeps its data, the
//! temp disk, GPU/InfiniBand drivers and end of life. `pool emit` fills the node agent from it and the
//! pool checks query it (`lookup`, `resolve`, `NodeImage::status`).

use std::{fmt, sync::OnceLock};

use serde::Deserialize;

/// The catalog file, compiled in.
pub const NODE_IMAGES_TOML: &str = include_str!("../data/node-images.toml");

/// A marketplace image Batch can run container workloads on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NodeImage {
    /// Marketplace publisher (`microsoft-dsvm`).
    pub publisher: String,
    /// Marketplace offer (`ubuntu-hpc`).
    pub offer: String,
    /// Marketplace SKU (`2404`).
    pub sku: String,
    /// Short names accepted in `[pool] image` (`ubuntu-hpc-2404`).
    pub aliases: Vec<String>,
    /// The `nodeAgentSKUId` this image needs (`batch.node.ubuntu 24.04`); `None` where no source
    /// batchprep has names it (Azure Linux 3), so no rule claims one.
    #[serde(default)]
    pub node_agent_sku_id: Option<String>,
    /// The operating system family.
    pub os_family: OsFamily,
    /// Where the temp (resource) disk is mounted on this image family.
    pub temp_disk: String,
    /// Whether a container runtime is preinstalled.
    pub docker_preinstalled: bool,
    /// Whether Docker keeps its data root on the OS disk.
    pub docker_data_root_on_os_disk: bool,
    /// Whether the image is meant only for InfiniBand sizes.
    pub rdma_only: bool,
    /// Whether NVIDIA drivers and the NVIDIA container runtime are preinstalled.
    pub gpu: bool,
    /// GPU models (`gpu-model` in vm-sizes.toml) whose drivers the image does not carry.
    #[serde(default)]
    pub gpus_not_driven: Vec<String>,
    /// Whether InfiniBand/RDMA drivers are preinstalled.
    pub infiniband: bool,
    /// End of life, `YYYY-MM-DD`, when known.
    #[serde(default)]
    pub end_of_life: Option<String>,
    /// Whether Batch no longer accepts new pools with this image.
    pub retired: bool,
    /// Whether this is the image to pick for new Linux container pools.
    pub recommended: bool,
    /// The CPU architecture of the nodes (`amd64` unless the entry says `arm64`).
    #[serde(default)]
    pub architecture: Architecture,
    /// Where these facts come from.
    pub source: String,
    /// When the entry was last checked against its source, `YYYY-MM`.
    pub as_of: String,
}

/// The CPU architecture of a node image, as OCI platforms name it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Architecture {
    /// x86-64.
    #[default]
    Amd64,
    /// 64-bit Arm (Azure Cobalt 100 nodes).
    Arm64,
}

impl Architecture {
    /// The OCI platform architecture (`amd64`, `arm64`).
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::Amd64 => "amd64",
            Architecture::Arm64 => "arm64",
        }
    }
}

/// Operating system family of a node image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum OsFamily {
    /// Ubuntu (temp disk at `/mnt`).
    Ubuntu,
    /// RHEL family: AlmaLinux, CentOS (temp disk at `/mnt/resource`).
    El,
    /// Azure Linux and its predecessor CBL-Mariner.
    #[serde(rename = "azurelinux")]
    AzureLinux,
    /// Windows Server.
    Windows,
}

/// A marketplace offer whose every SKU is retired.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RetiredOffer {
    /// Marketplace publisher.
    pub publisher: String,
    /// Marketplace offer.
    pub offer: String,
    /// When its last SKU reached end of life, `YYYY-MM-DD`.
    pub end_of_life: String,
    /// Where this comes from.
    pub source: String,
    /// When it was last checked against its source, `YYYY-MM`.
    pub as_of: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CatalogFile {
    as_of: String,
    image: Vec<NodeImage>,
    #[serde(default)]
    retired_offer: Vec<RetiredOffer>,
}

fn catalog() -> &'static CatalogFile {
    static CATALOG: OnceLock<CatalogFile> = OnceLock::new();
    CATALOG.get_or_init(|| {
        // The file is compiled in and a unit test parses it, so a failure here is a build defect.
        toml::from_str::<CatalogFile>(NODE_IMAGES_TOML).expect("data/node-images.toml is valid")
    })
}

/// Every image in the catalog.
pub fn images() -> &'static [NodeImage] {
    &catalog().image
}

/// When the catalog's facts were last checked (`YYYY-MM`), shown by `batchprep --version`.
pub fn as_of() -> &'static str {
    &catalog().as_of
}

/// The catalog entry for a marketplace triple (case-insensitive).
pub fn lookup(publisher: &str, offer: &str, sku: &str) -> Option<&'static NodeImage> {
    images().iter().find(|i| {
        i.publisher.eq_ignore_ascii_case(publisher)
            && i.offer.eq_ignore_ascii_case(offer)
            && i.sku.eq_ignore_ascii_case(sku)
    })
}

/// The retired offer a marketplace image belongs to, for SKUs the catalog does not list one by one.
pub fn retired_offer(publisher: &str, offer: &str) -> Option<&'static RetiredOffer> {
    catalog().retired_offer.iter().find(|o| {
        o.publisher.eq_ignore_ascii_case(publisher) && o.offer.eq_ignore_ascii_case(offer)
    })
}

/// The catalog entry for a short alias (`ubuntu-hpc-2404`).
pub fn by_alias(alias: &str) -> Option<&'static NodeImage> {
    images()
        .iter()
        .find(|i| i.aliases.iter().any(|a| a.eq_ignore_ascii_case(alias)))
}

/// The image that new Linux container pools should use.
pub fn recommended() -> &'static NodeImage {
    images()
        .iter()
        .find(|i| i.recommended && i.node_agent_sku_id.is_some())
        .expect("data/node-images.toml marks one image with a node agent recommended")
}

/// The node agent of the [`recommended`] image (which always has one).
pub fn recommended_node_agent() -> &'static str {
    recommended()
        .node_agent()
        .expect("recommended() picks an image with a node agent")
}

/// A marketplace image as written in a spec: `publisher:offer:sku[:version]` or an alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Marketplace publisher.
    pub publisher: String,
    /// Marketplace offer.
    pub offer: String,
    /// Marketplace SKU.
    pub sku: String,
    /// Image version (`latest` when not given).
    pub version: String,
    /// The catalog entry, when the image is known.
    pub known: Option<&'static NodeImage>,
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}",
            self.publisher, self.offer, self.sku, self.version
        )
    }
}

/// Why an image name could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageRefError {
    /// Neither an alias nor `publisher:offer:sku[:version]`.
    #[error(
        "unknown image `{0}`: write `publisher:offer:sku[:version]` or an alias such as `ubuntu-hpc-2404`"
    )]
    Unrecognised(String),
}

/// Reads `publisher:offer:sku[:version]` or an alias (`ubuntu-hpc-2404[:version]`).
pub fn resolve(input: &str) -> Result<ImageRef, ImageRefError> {
    let parts: Vec<&str> = input.split(':').collect();
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err(ImageRefError::Unrecognised(input.to_owned()));
    }
    let (publisher, offer, sku, version) = match parts.as_slice() {
        [alias] | [alias, _] => {
            let image =
                by_alias(alias).ok_or_else(|| ImageRefError::Unrecognised(input.to_owned()))?;
            let version = parts.get(1).copied().unwrap_or("latest");
            (
                image.publisher.as_str(),
                image.offer.as_str(),
                image.sku.as_str(),
                version,
            )
        }
        [p, o, s] => (*p, *o, *s, "latest"),
        [p, o, s, v] => (*p, *o, *s, *v),
        _ => return Err(ImageRefError::Unrecognised(input.to_owned())),
    };
    Ok(ImageRef {
        publisher: publisher.to_owned(),
        offer: offer.to_owned(),
        sku: sku.to_owned(),
        version: version.to_owned(),
        known: lookup(publisher, offer, sku),
    })
}

/// Where an image stands on a given day.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageStatus {
    /// Supported, and not ending within a year.
    Supported,
    /// Ends within 12 months of today.
    EndingSoon {
        /// The end-of-life date.
        end_of_life: Date,
        /// Days left.
        days_left: i64,
    },
    /// Retired, or past its end of life.
    Retired {
        /// The end-of-life date, when known.
        end_of_life: Option<Date>,
    },
}

impl NodeImage {
    /// The end-of-life date, parsed.
    pub fn end_of_life_date(&self) -> Option<Date> {
        self.end_of_life
            .as_deref()
            .and_then(|d| Date::parse(d).ok())
    }

    /// Whether the image is retired, ending within 12 months, or supported on `today`.
    pub fn status(&self, today: Date) -> ImageStatus {
        let eol = self.end_of_life_date();
        match eol {
            _ if self.retired => ImageStatus::Retired { end_of_life: eol },
            Some(end) if end <= today => ImageStatus::Retired { end_of_life: eol },
            Some(end) if end <= today.plus_months(12) => ImageStatus::EndingSoon {
                end_of_life: end,
                days_left: end.days_since_epoch() - today.days_since_epoch(),
            },
            _ => ImageStatus::Supported,
        }
    }

    /// The node agent, for an image the catalog knows it for.
    pub fn node_agent(&self) -> Option<&str> {
        self.node_agent_sku_id.as_deref()
    }

    /// `publisher:offer:sku`.
    pub fn urn(&self) -> String {
        format!("{}:{}:{}", self.publisher, self.offer, self.sku)
    }
}

/// A calendar date (proleptic Gregorian), enough to compare end-of-life dates with "today".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1-12.
    pub month: u32,
    /// Day, 1-31.
    pub day: u32,
}

/// A date that is not `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date `{0}`: expected YYYY-MM-DD")]
pub struct DateError(pub String);

impl Date {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Date, DateError> {
        let err = || DateError(s.to_owned());
        let mut it = s.splitn(3, '-');
        let (y, m, d) = (
            it.next().ok_or_else(err)?,
            it.next().ok_or_else(err)?,
            it.next().ok_or_else(err)?,
        );
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(err());
        }
        let date = Date {
            year: y.parse().map_err(|_| err())?,
            month: m.parse().map_err(|_| err())?,
            day: d.parse().map_err(|_| err())?,
        };
        if !(1..=12).contains(&date.month)
            || date.day < 1
            || date.day > days_in_month(date.year, date.month)
        {
            return Err(err());
        }
        Ok(date)
    }

    /// Today in UTC, from the system clock.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days_since_epoch((secs / 86_400) as i64)
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn days_since_epoch(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01 (`civil_from_days`).
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// The same day `n` months later, clamped to the month's last day.
    pub fn plus_months(self, n: u32) -> Date {
        let total = self.year * 12 + (self.month as i32 - 1) + n as i32;
        let (year, month) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
        Date {
            year,
            month,
            day: self.day.min(days_in_month(year, month)),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Whether `s` is a `YYYY-MM` date (the catalog's `as-of`).
pub fn is_year_month(s: &str) -> bool {
    s.split_once('-').is_some_and(|(y, m)| {
        y.len() == 4
            && y.bytes().all(|b| b.is_ascii_digit())
            && m.len() == 2
            && m.parse::<u8>().is_ok_and(|m| (1..=12).contains(&m))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_names_its_source_and_when_it_was_checked() {
        for image in images() {
            assert!(
                !image.source.trim().is_empty(),
                "{}: no source",
                image.urn()
            );
            assert!(
                is_year_month(&image.as_of),
                "{}: as-of `{}`",
                image.urn(),
                image.as_of
            );
        }
        for offer in &catalog().retired_offer {
            assert!(
                !offer.source.trim().is_empty(),
                "{}: no source",
                offer.offer
            );
            assert!(
                is_year_month(&offer.as_of),
                "{}: as-of `{}`",
                offer.offer,
                offer.as_of
            );
        }
        // An entry without a source is not read at all.
        let entry = NODE_IMAGES_TOML
            .split("\n[[image]]\n")
            .nth(1)
            .unwrap()
            .split("\n[[")
            .next()
            .unwrap();
        let without: String = entry
            .lines()
            .filter(|l| !l.starts_with("source ="))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(toml::from_str::<NodeImage>(entry).is_ok(), "{entry}");
        assert!(toml::from_str::<NodeImage>(&without).is_err());
        assert!(!is_year_month("2026-13") && !is_year_month("26-06") && is_year_month("2026-06"));
    }

    #[test]
    fn arm64_is_an_architecture_and_amd64_the_default() {
        let arm: NodeImage = toml::from_str(
            &NODE_IMAGES_TOML
                .split("\n[[image]]\n")
                .nth(1)
                .unwrap()
                .split("\n[[")
                .next()
                .unwrap()
                .replace(
                    "recommended = true",
                    "recommended = true\narchitecture = \"arm64\"",
                ),
        )
        .unwrap();
        assert_eq!(arm.architecture.as_str(), "arm64");
        // Without the field, amd64.
        let amd: NodeImage = toml::from_str(
            NODE_IMAGES_TOML
                .split("\n[[image]]\n")
                .nth(1)
                .unwrap()
                .split("\n[[")
                .next()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(amd.architecture, Architecture::Amd64);
    }

    fn date(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn catalog_parses_and_every_entry_is_unique() {
        let all = images();
        assert!(all.len() >= 10);
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a.urn(), b.urn(), "duplicate image");
                for alias in &a.aliases {
                    assert!(!b.aliases.contains(alias), "alias {alias} used twice");
                }
            }
            if let Some(eol) = &a.end_of_life {
                Date::parse(eol).unwrap();
            }
        }
        assert_eq!(recommended().urn(), "microsoft-dsvm:ubuntu-hpc:2404");
        let (year, month) = as_of().split_once('-').unwrap();
        assert!(
            year.len() == 4 && year.parse::<u16>().is_ok(),
            "as-of {}",
            as_of()
        );
        assert!(
            matches!(month.parse::<u8>(), Ok(1..=12)),
            "as-of {}",
            as_of()
        );
    }

    #[test]
    fn lookup_fills_the_node_agent() {
        let img = lookup("Microsoft-DSVM", "ubuntu-hpc", "2204").unwrap();
        assert_eq!(img.node_agent(), Some("batch.node.ubuntu 22.04"));
        assert!(img.docker_data_root_on_os_disk);
        assert_eq!(
            lookup("almalinux", "almalinux-hpc", "8-hpc-gen2")
                .unwrap()
                .temp_disk,
            "/mnt/resource"
        );
        assert_eq!(lookup("nobody", "nothing", "1"), None);
    }

    #[test]
    fn resolve_reads_aliases_and_urns() {
        let r = resolve("ubuntu-hpc-2404").unwrap();
        assert_eq!(r.to_string(), "microsoft-dsvm:ubuntu-hpc:2404:latest");
        assert_eq!(
            r.known.unwrap().node_agent(),
            Some("batch.node.ubuntu 24.04")
        );
        let r = resolve("microsoft-dsvm:ubuntu-hpc:2204:22.04.2025061201").unwrap();
        assert_eq!(r.version, "22.04.2025061201");
        let r = resolve("contoso:custom:1").unwrap();
        assert_eq!(r.known, None);
        assert_eq!(
            resolve("ubuntu").unwrap_err().to_string(),
            "unknown image `ubuntu`: write `publisher:offer:sku[:version]` or an alias such as `ubuntu-hpc-2404`"
        );
        assert!(resolve("a::b").is_err());
    }

    #[test]
    fn status_against_a_pinned_today() {
        let jammy = lookup("microsoft-dsvm", "ubuntu-hpc", "2204").unwrap();
        assert_eq!(jammy.status(date("2026-06-01")), ImageStatus::Supported);
        assert_eq!(
            jammy.status(date("2026-07-01")),
            ImageStatus::EndingSoon {
                end_of_life: date("2027-06-30"),
                days_left: 364
            }
        );
        assert_eq!(
            jammy.status(date("2027-06-30")),
            ImageStatus::Retired {
                end_of_life: Some(date("2027-06-30"))
            }
        );
        let old = lookup(
            "microsoft-azure-batch",
            "ubuntu-server-container",
            "20-04-lts",
        )
        .unwrap();
        assert!(matches!(
            old.status(date("2024-01-01")),
            ImageStatus::Retired { .. }
        ));
    }

    #[test]
    fn dates_round_trip() {
        for s in ["1970-01-01", "2000-02-29", "2027-06-30", "2100-03-01"] {
            let d = date(s);
            assert_eq!(Date::from_days_since_epoch(d.days_since_epoch()), d);
            assert_eq!(d.to_string(), s);
        }
        assert_eq!(date("1970-01-02").days_since_epoch(), 1);
        assert_eq!(date("2026-08-31").plus_months(6), date("2027-02-28"));
        assert!(Date::parse("2026-02-30").is_err());
        assert!(Date::parse("26-01-01").is_err());
    }
}
