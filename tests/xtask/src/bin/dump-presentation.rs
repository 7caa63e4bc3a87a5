//! Prints a realistic presentation of a catalogue type (for size analysis).
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let slug = args.get(1).map_or("business-licence", String::as_str);
    let names: Vec<String> = tongban_test_support::sample::catalogue_samples()[slug]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let n: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(6);
    let d: Vec<&str> = names.iter().map(String::as_str).take(n).collect();
    if let Ok((_, p)) = tongban_test_support::sample::realistic_presentation(slug, &d) {
        println!("{p}");
    }
}
