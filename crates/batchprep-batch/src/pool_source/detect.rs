//! Which kind of pool file a file is: by extension first, by content when the extension says nothing
//! (a `pool` file without one, a plan saved as `.out.json`). A kind batchprep does not read is named,
//! never parsed as JSON and reported as a JSON syntax error.

use std::path::Path;

use super::PoolFileError;

/// The kinds of pool file batchprep reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolKind {
    /// Pool JSON: a REST body, `az batch pool show` output, a Batch CLI or an ARM template.
    Json,
    /// `terraform show -json` output of a plan or state.
    TerraformPlan,
    /// Terraform configuration (`.tf`).
    Terraform,
    /// Bicep.
    Bicep,
    /// Batch Shipyard YAML (`pool.yaml`).
    Shipyard,
}

impl PoolKind {
    /// The kind's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            PoolKind::Json => "pool JSON",
            PoolKind::TerraformPlan => "Terraform plan JSON",
            PoolKind::Terraform => "Terraform",
            PoolKind::Bicep => "Bicep",
            PoolKind::Shipyard => "Batch Shipyard YAML",
        }
    }
}

/// The kind of the file at `path` with content `bytes`.
pub fn detect(path: &Path, bytes: &[u8]) -> Result<PoolKind, PoolFileError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    let json_kind = || {
        if is_terraform_json(&head) {
            PoolKind::TerraformPlan
        } else {
            PoolKind::Json
        }
    };
    match ext.as_str() {
        "tf" => return Ok(PoolKind::Terraform),
        "bicep" => return Ok(PoolKind::Bicep),
        "json" if name.ends_with(".tf.json") => {
            return Err(PoolFileError::Unsupported(
                "Terraform JSON configuration (`.tf.json`)".into(),
            ));
        }
        "json" => return Ok(json_kind()),
        "yaml" | "yml" => {
            return if head.contains("pool_specification") {
                Ok(PoolKind::Shipyard)
            } else if head.contains("job_specifications") {
                Err(PoolFileError::Unsupported(
                    "a Batch Shipyard jobs file: give it as `--task`".into(),
                ))
            } else {
                Err(PoolFileError::Unsupported(
                    "YAML without a Batch Shipyard `pool_specification`".into(),
                ))
            };
        }
        "bicepparam" => {
            return Err(PoolFileError::Unsupported(
                "a Bicep parameters file (`.bicepparam`)".into(),
            ));
        }
        "tfvars" => {
            return Err(PoolFileError::Unsupported(
                "Terraform variable values (`.tfvars`)".into(),
            ));
        }
        _ => {}
    }
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return Ok(json_kind());
    }
    if head.contains("resource \"azurerm_batch_pool\"") {
        return Ok(PoolKind::Terraform);
    }
    if head.contains("'Microsoft.Batch/batchAccounts") {
        return Ok(PoolKind::Bicep);
    }
    if head.contains("pool_specification:") {
        return Ok(PoolKind::Shipyard);
    }
    let what = match ext.as_str() {
        "" => "no extension, and the content is none of them".to_owned(),
        e => format!("a `.{e}` file"),
    };
    Err(PoolFileError::Unsupported(what))
}

/// `terraform show -json` output: `format_version` with `planned_values` or `values`.
fn is_terraform_json(head: &str) -> bool {
    head.contains("\"format_version\"")
        && (head.contains("\"planned_values\"")
            || head.contains("\"terraform_version\"")
            || head.contains("\"root_module\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_extension_then_content() {
        let k = |p: &str, c: &str| detect(Path::new(p), c.as_bytes());
        assert_eq!(k("main.tf", ""), Ok(PoolKind::Terraform));
        assert_eq!(k("pools.bicep", ""), Ok(PoolKind::Bicep));
        assert_eq!(k("pool.json", "{\"vmSize\": 1}"), Ok(PoolKind::Json));
        assert_eq!(
            k(
                "plan.json",
                "{\"format_version\":\"1.2\",\"planned_values\":{}}"
            ),
            Ok(PoolKind::TerraformPlan)
        );
        assert_eq!(
            k("pool.yaml", "pool_specification:\n  id: p\n"),
            Ok(PoolKind::Shipyard)
        );
        assert_eq!(
            k("pool", "resource \"azurerm_batch_pool\" \"p\" {}"),
            Ok(PoolKind::Terraform)
        );
        assert_eq!(
            k("README.md", "# hello").unwrap_err().to_string(),
            format!(
                "not a pool file batchprep reads (a `.md` file); it reads {}",
                super::super::KINDS_READ
            )
        );
        assert!(matches!(
            k("values.yaml", "replicas: 2"),
            Err(PoolFileError::Unsupported(_))
        ));
    }
}
