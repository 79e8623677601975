//! Terminal output that fits: every table and paragraph at most [`WIDTH`] columns,
//! on a terminal or a pipe alike (a detected width never widens it, so piped output
//! is the same bytes everywhere); colour only on a terminal and never with `NO_COLOR`.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, ContentArrangement, Table};

use super::summary::Grid;

/// The widest line the terminal output prints.
pub const WIDTH: u16 = 100;

/// How text is styled for the terminal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// ANSI colour and bold.
    pub color: bool,
}

impl Style {
    /// No colour: files, pipes, tests.
    pub fn plain() -> Style {
        Style { color: false }
    }

    /// Colour when the output is a terminal and `NO_COLOR` is unset or empty
    /// (<https://no-color.org>).
    pub fn for_output(is_terminal: bool) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: is_terminal && !no_color,
        }
    }

    /// `text` in bold.
    pub fn bold(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// An empty table with the project's border style that wraps its cells to fit
/// [`WIDTH`] columns.
pub fn table<T: Into<Cell>>(header: impl IntoIterator<Item = T>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH)
        .force_no_tty();
    t.set_header(header);
    t
}

/// Longest word a column keeps whole; longer ones (URLs) may be split.
const WORD_MAX: usize = 40;

/// Keeps columns at least as wide as their longest word (up to [`WORD_MAX`]), so cells
/// wrap between words, as far as the table can still fit [`WIDTH`]: every column with
/// its header's words if that fits, else with its cells' words only, else the
/// narrowest columns while they fit. Call it once the rows are in.
pub fn keep_words(t: &mut Table) {
    use comfy_table::{ColumnConstraint, Width};
    use unicode_width::UnicodeWidthStr;
    let columns = t.column_count();
    let longest_word = |cell: &Cell| {
        cell.content()
            .split_whitespace()
            .map(UnicodeWidthStr::width)
            .max()
            .unwrap_or(0)
            .min(WORD_MAX)
    };
    let mut body = vec![0usize; columns];
    for row in t.row_iter() {
        for (c, cell) in row.cell_iter().enumerate().take(columns) {
            body[c] = body[c].max(longest_word(cell));
        }
    }
    let mut with_header = body.clone();
    if let Some(h) = t.header() {
        for (c, cell) in h.cell_iter().enumerate().take(columns) {
            with_header[c] = with_header[c].max(longest_word(cell));
        }
    }
    // Each column has one space of padding either side and one border.
    let cost = |w: usize| w + 3;
    let fits = |ws: &[usize]| ws.iter().map(|&w| cost(w)).sum::<usize>() < WIDTH as usize;
    let chosen: Vec<Option<usize>> = if fits(&with_header) {
        with_header.into_iter().map(Some).collect()
    } else if fits(&body) {
        body.into_iter().map(Some).collect()
    } else {
        // Narrowest columns first: the widest ones are left to wrap.
        let mut order: Vec<usize> = (0..columns).collect();
        order.sort_by_key(|&c| body[c]);
        let mut left = WIDTH as usize - 1;
        let mut chosen = vec![None; columns];
        for c in order {
            if cost(body[c]) <= left {
                left -= cost(body[c]);
                chosen[c] = Some(body[c]);
            }
        }
        chosen
    };
    for (c, w) in chosen.into_iter().enumerate() {
        if let (Some(w), Some(col)) = (w, t.column_mut(c)) {
            // The width of a constraint includes the padding.
            col.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(w as u16 + 2)));
        }
    }
}

/// A [`Grid`] as a table: text columns left, figures right, cells coloured by
/// `color_of` (row, column) when `style` has colour.
pub fn grid_table(
    g: &Grid,
    style: Style,
    color_of: impl Fn(usize, usize) -> Option<comfy_table::Color>,
) -> Table {
    let mut t = table(g.header.iter().map(String::as_str));
    if style.color {
        t.enforce_styling();
    }
    for (r, row) in g.rows.iter().enumerate() {
        t.add_row(row.iter().enumerate().map(|(c, text)| {
            let mut cell = Cell::new(text);
            if g.numeric.get(c).copied().unwrap_or(false) {
                cell = cell.set_alignment(CellAlignment::Right);
            }
            match color_of(r, c) {
                Some(color) if style.color => cell.fg(color),
                _ => cell,
            }
        }));
    }
    keep_words(&mut t);
    t
}

/// A paragraph wrapped to [`WIDTH`] columns, each line after the first indented by
/// `indent` spaces, ending in a newline.
pub fn paragraph(text: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let opts = textwrap::Options::new(WIDTH as usize).subsequent_indent(&pad);
    let mut out = textwrap::fill(text, opts);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn long_cells_wrap_to_the_width() {
        let long = "a rather long explanation ".repeat(12);
        let mut t = table(["name", "value", "source"]);
        t.add_row(["x", "1", long.as_str()]);
        t.add_row(["step_functions", "2", long.as_str()]);
        keep_words(&mut t);
        let text = t.to_string();
        assert!(text.contains("step_functions"), "split a word:\n{text}");
        assert!(text.lines().count() > 4, "{text}");
        for line in text.lines() {
            assert!(
                line.width() <= WIDTH as usize,
                "{} > {WIDTH}: {line}",
                line.width()
            );
        }
    }

    #[test]
    fn paragraphs_wrap_and_indent() {
        let p = paragraph(&"word ".repeat(60), 2);
        let lines: Vec<&str> = p.lines().collect();
        assert!(lines.len() >= 3);
        assert!(lines[1].starts_with("  w"));
        assert!(lines.iter().all(|l| l.width() <= WIDTH as usize));
    }

    #[test]
    fn colour_only_when_asked() {
        assert_eq!(Style::plain().bold("x"), "x");
        assert_eq!(Style { color: true }.bold("x"), "\x1b[1mx\x1b[0m");
        assert!(!Style::for_output(false).color);
        let g = Grid {
            header: vec!["a".into()],
            rows: vec![vec!["ok".into()]],
            numeric: vec![false],
        };
        let red = |_, _| Some(comfy_table::Color::Red);
        assert!(!grid_table(&g, Style::plain(), red)
            .to_string()
            .contains('\x1b'));
        assert!(grid_table(&g, Style { color: true }, red)
            .to_string()
            .contains('\x1b'));
    }
}
