//! Colour in the `human` report: when to use it (the flag, then `NO_COLOR`, then `CLICOLOR_FORCE`,
//! then whether stdout is a terminal) and the styles, as rustc and cargo colour theirs.

use std::io::IsTerminal;

use anstyle::{AnsiColor, Style};
use batchprep_lint::Severity;

/// `--color`: when the human report is coloured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// When stdout is a terminal, unless `NO_COLOR` is set (or `CLICOLOR_FORCE` asks for it).
    #[default]
    Auto,
    /// Always, even into a pipe or file.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether stdout gets colour, from this choice and the process environment.
    pub fn for_stdout(self) -> bool {
        self.resolve(
            |name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()),
            std::io::stdout().is_terminal(),
        )
    }

    /// The decision, given the environment and whether stdout is a terminal. The flag wins; then
    /// <https://no-color.org> (`NO_COLOR` set and not empty); then `CLICOLOR_FORCE` (set and not `0`,
    /// <https://bixense.com/clicolors/>); then a terminal that is not `TERM=dumb`.
    pub fn resolve(self, env: impl Fn(&str) -> Option<String>, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                let set =
                    |name: &str, off: &str| env(name).is_some_and(|v| !v.is_empty() && v != off);
                if set("NO_COLOR", "") {
                    false
                } else if set("CLICOLOR_FORCE", "0") {
                    true
                } else {
                    terminal && env("TERM").as_deref() != Some("dumb")
                }
            }
        }
    }
}

/// The styles of the human report; all plain when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    on: bool,
}

impl Palette {
    /// Styles that print escapes only when `on`.
    pub fn new(on: bool) -> Self {
        Palette { on }
    }

    fn pick(self, style: Style) -> Style {
        if self.on { style } else { Style::new() }
    }

    /// The severity word (`error`, `warning`, `note`).
    pub fn severity(self, s: Severity) -> Style {
        let color = match s {
            Severity::Error => AnsiColor::BrightRed,
            Severity::Warning => AnsiColor::BrightYellow,
            Severity::Note => AnsiColor::BrightCyan,
        };
        self.pick(color.on_default().bold())
    }

    /// The `-->`, `|` and line-number gutter.
    pub fn gutter(self) -> Style {
        self.pick(AnsiColor::BrightBlue.on_default().bold())
    }

    /// The rule name and subject after the severity.
    pub fn title(self) -> Style {
        self.pick(Style::new().bold())
    }

    /// Writes `text` in `style`: the escapes only around it, so a pipe reading lines sees whole ones.
    pub fn paint(self, style: Style, text: impl std::fmt::Display) -> String {
        format!("{}{text}{}", style.render(), style.render_reset())
    }
}

#[cfg(test)]
mod tests {
    use super::ColorChoice;

    fn decide(choice: ColorChoice, env: &[(&str, &str)], terminal: bool) -> bool {
        choice.resolve(
            |name| {
                env.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            },
            terminal,
        )
    }

    #[test]
    fn the_flag_then_no_color_then_clicolor_force_then_the_terminal() {
        use ColorChoice::*;
        assert!(decide(Auto, &[], true));
        assert!(!decide(Auto, &[], false));
        assert!(!decide(Auto, &[("TERM", "dumb")], true));
        assert!(!decide(Auto, &[("NO_COLOR", "1")], true));
        // An empty NO_COLOR does not count (no-color.org).
        assert!(decide(Auto, &[("NO_COLOR", "")], true));
        assert!(decide(Auto, &[("CLICOLOR_FORCE", "1")], false));
        assert!(!decide(Auto, &[("CLICOLOR_FORCE", "0")], false));
        assert!(!decide(
            Auto,
            &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")],
            true
        ));
        assert!(decide(Always, &[("NO_COLOR", "1")], false));
        assert!(!decide(Never, &[("CLICOLOR_FORCE", "1")], true));
    }
}
