//! `batchprep net check` as users run it: each case under `tests/cmd/net-*.toml` is a command line
//! with its exact stdout, stderr and exit code (`TRYCMD=overwrite` rewrites them after a reviewed change).

#[test]
fn net_check_cases() {
    trycmd::TestCases::new()
        .register_bin(
            "batchprep",
            std::path::Path::new(env!("CARGO_BIN_EXE_batchprep")),
        )
        .case("tests/cmd/net-*.toml");
}
