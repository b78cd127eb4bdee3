//! QR codes as SVG. The modules come from the `qrcode` crate; the SVG is drawn here, one path
//! of horizontal runs, so it stays small (about 3 KB for a survey link) and crisp at any size.

use qrcode::{Color, EcLevel, QrCode};

/// Modules of white border the QR specification asks for around the code.
const QUIET_ZONE: usize = 4;

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG QR code of `data` (error correction M: a poster survives a crease or a smudge),
/// titled `title` for screen readers.
pub fn svg(data: &str, title: &str) -> Result<String, String> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| format!("cannot make a QR code: {e}"))?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET_ZONE;
    let mut path = String::with_capacity(width * width);
    for y in 0..width {
        let row = &colors[y * width..(y + 1) * width];
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let start = x;
                while x < width && row[x] == Color::Dark {
                    x += 1;
                }
                let run = x - start;
                path.push_str(&format!(
                    "M{} {}h{run}v1h-{run}z",
                    start + QUIET_ZONE,
                    y + QUIET_ZONE
                ));
            } else {
                x += 1;
            }
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         width=\"{px}\" height=\"{px}\" role=\"img\" shape-rendering=\"crispEdges\">\
         <title>{title}</title><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{path}\"/></svg>\n",
        px = size * 8,
        title = xml_escape(title),
    ))
}
