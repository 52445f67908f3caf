//! Left-aligned columns, as kafka-consumer-groups.sh prints them.

/// Renders `rows` under `header`, each column as wide as its widest cell plus one space.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let widths = widths(header, rows);
    let line = |cells: Vec<&str>| {
        let mut line = String::new();
        for (cell, width) in cells.iter().zip(&widths) {
            line.push_str(&format!("{cell:<width$} ", width = width));
        }
        line.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// Renders `rows` under `header` as kafka-transactions.sh does (its `prettyPrintTable`): each
/// cell padded to its column's widest, then a tab, on every line.
pub fn render_tabbed(header: &[&str], rows: &[Vec<String>]) -> String {
    let widths = widths(header, rows);
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut line = String::new();
        for (cell, width) in cells.zip(&widths) {
            line.push_str(&format!("{cell:<width$}\t", width = width));
        }
        line + "\n"
    };
    let mut out = line(&mut header.iter().copied());
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

/// Each column's width: its widest cell, header included.
fn widths(header: &[&str], rows: &[Vec<String>]) -> Vec<usize> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    widths
}

#[cfg(test)]
mod tests {
    #[test]
    fn tabbed_pads_each_cell_then_tabs() {
        let out = super::render_tabbed(
            &["TransactionalId", "Coordinator"],
            &[vec!["payments-app-1".into(), "2".into()]],
        );
        assert_eq!(
            out,
            "TransactionalId\tCoordinator\t\npayments-app-1 \t2          \t\n"
        );
    }

    #[test]
    fn columns_align_to_the_widest_cell() {
        let out = super::render(
            &["GROUP", "LAG"],
            &[
                vec!["order-processor".into(), "50".into()],
                vec!["g".into(), "-".into()],
            ],
        );
        assert_eq!(
            out,
            "GROUP           LAG\norder-processor 50\ng               -\n"
        );
    }
}
