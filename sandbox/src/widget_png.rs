//! A real PNG for the guild widget image, drawn per style.

/// The styles Discord draws, `shield` first (its default).
pub(crate) const STYLES: &[&str] = &["shield", "banner1", "banner2", "banner3", "banner4"];

/// The widget image of a guild with `online` members, in `style` (one of
/// [`STYLES`]).
pub(crate) fn render(style: &str, online: u64) -> Vec<u8> {
    let (width, height) = match style {
        "banner2" => (320u32, 76u32),
        "banner1" | "banner3" => (320, 82),
        "banner4" => (320, 160),
        _ => (120, 20),
    };
    // Blurple, with a lighter band whose width follows the online count.
    let band = (online % u64::from(width)) as u32;
    let mut pixels = Vec::with_capacity((width * height * 4) as usize);
    for _ in 0..height {
        for x in 0..width {
            let rgba = if x < band {
                [0x72, 0x89, 0xda, 0xff]
            } else {
                [0x58, 0x65, 0xf2, 0xff]
            };
            pixels.extend_from_slice(&rgba);
        }
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .expect("a fixed-size RGBA header encodes");
    writer
        .write_image_data(&pixels)
        .expect("the pixel buffer matches the header");
    writer.finish().expect("an in-memory PNG finishes");
    png
}
