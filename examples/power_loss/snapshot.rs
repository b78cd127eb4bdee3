//! `power_loss snapshot DATA OUT`: the recovered image's records in the backup format, taken
//! before anything repairs them. Every `chorus` command recovers the store at open (it
//! writes again the tasks and deliveries a crash cut off), so a `chorus backup` would hide a
//! task that was acknowledged but not durable; this opens the sled store (with its damage
//! check) and exports it without `recover`.

use chorus::store::sled::SledStore;
use chorus::store::{BackupWriter, Store};
use std::path::Path;

pub fn run(data: &Path, out: &Path) -> i32 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let result = runtime.block_on(async {
        let store = SledStore::open(data, 64 << 20, 1).map_err(|e| e.to_string())?;
        let file = std::fs::File::create(out).map_err(|e| e.to_string())?;
        let mut writer =
            BackupWriter::new(std::io::BufWriter::new(file)).map_err(|e| e.to_string())?;
        store
            .export_records(&mut writer)
            .await
            .map_err(|e| e.to_string())?;
        writer.finish().map(|(n, _)| n).map_err(|e| e.to_string())
    });
    match result {
        Ok(_) => 0,
        Err(e) => {
            eprintln!("power_loss snapshot: {e}");
            1
        }
    }
}
