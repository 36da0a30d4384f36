//! Measure loading an OSV database: `cargo run --release --example osv_load -- PATH [RUNS]`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: osv_load PATH [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    let mut times = Vec::new();
    for _ in 0..runs {
        let db = venvaudit::internals::load_osv(std::path::Path::new(path)).expect("load");
        times.push(db.load_ms);
        if times.len() == 1 {
            println!("{}", serde_json::to_string_pretty(&db.describe()).unwrap());
        }
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("runs={runs} min={:.1}ms median={:.1}ms max={:.1}ms", times[0], times[runs / 2], times[runs - 1]);
}
