//! Left-aligned columns, as kafka-consumer-groups.sh prints them.

/// Renders `rows` under `header`, each column as wide as its widest cell plus one space.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
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

#[cfg(test)]
mod tests {
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
