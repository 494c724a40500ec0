//! `batchprep inspect` as users run it on the committed `testdata/images/hello` image: each case
//! under `tests/cmd/inspect-*.toml` is a command line with its exact stdout, stderr and exit code
//! (`TRYCMD=overwrite` rewrites them after a reviewed change).

#[test]
fn inspect_cases() {
    trycmd::TestCases::new()
        .register_bin(
            "batchprep",
            std::path::Path::new(env!("CARGO_BIN_EXE_batchprep")),
        )
        .case("tests/cmd/inspect-*.toml");
}
