//! Decoding a 100-convo `chat.bsky.convo.listConvos` page, with and without
//! lexicon validation, in the same run (goal: validation adds at most 25%).
//!
//! `cargo bench -p atlex-lexicons --bench validate`

use atlex::validate::Validate;
use atlex_lexicons::chat::bsky::convo::list_convos;

fn main() {
    divan::main();
}

fn fixture() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/list_convos_100.json"
    );
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Baseline: decode only.
#[divan::bench(sample_count = 200)]
fn decode(bencher: divan::Bencher) {
    let text = fixture();
    bencher.bench(|| {
        let output: list_convos::Output = serde_json::from_str(divan::black_box(&text)).unwrap();
        output
    });
}

/// Decode, then check every constraint.
#[divan::bench(sample_count = 200)]
fn decode_and_validate(bencher: divan::Bencher) {
    let text = fixture();
    bencher.bench(|| {
        let output: list_convos::Output = serde_json::from_str(divan::black_box(&text)).unwrap();
        output.validate().unwrap();
        output
    });
}

/// Validation alone, on an already decoded page.
#[divan::bench(sample_count = 200)]
fn validate_only(bencher: divan::Bencher) {
    let output: list_convos::Output = serde_json::from_str(&fixture()).unwrap();
    bencher.bench(|| divan::black_box(&output).validate().unwrap());
}
