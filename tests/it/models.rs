//! The model store: downloads from a hub (a local HTTP server on 127.0.0.1 standing in for
//! it), verification, `quakelab models list` and `info`, and what a missing model says.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};

use quakelab::models::{
    FetchAction, Fetcher, Lookup, ModelEntry, ModelFile, Registry, Store, sha256_file,
};

/// SHA-256 of "abc" (FIPS 180-2, appendix B.1).
const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

/// One canned answer of the test hub.
#[derive(Clone, Default)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Announce this Content-Length but send only `body`, then close.
    claimed_length: Option<usize>,
}

impl Reply {
    fn ok(body: &[u8]) -> Reply {
        Reply {
            status: 200,
            body: body.to_vec(),
            ..Reply::default()
        }
    }

    fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// A tiny HTTP/1.1 server on 127.0.0.1 answering GETs from a fixed table (404 otherwise), one
/// connection at a time, in a thread that lives as long as the test process.
fn serve(routes: HashMap<String, Reply>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            answer(stream, &routes);
        }
    });
    url
}

fn answer(mut stream: TcpStream, routes: &HashMap<String, Reply>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request_line.split(' ').nth(1).unwrap_or("").to_string();
    let reply = routes.get(&path).cloned().unwrap_or(Reply {
        status: 404,
        body: b"Entry not found".to_vec(),
        ..Reply::default()
    });
    let reason = match reply.status {
        200 => "OK",
        302 => "Found",
        404 => "Not Found",
        _ => "Other",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.claimed_length.unwrap_or(reply.body.len())
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&reply.body);
    let _ = stream.flush();
}

/// A test model: `config.json` pinned to "abc", `model.safetensors` unpinned (the hub declares
/// it).
fn tiny_entry() -> ModelEntry {
    ModelEntry {
        id: "test/tiny".to_string(),
        aliases: vec!["tiny".to_string()],
        revision: "main".to_string(),
        licence: "MIT".to_string(),
        description: "a model for tests".to_string(),
        files: vec![
            ModelFile::pinned("config.json", 3, ABC_SHA256),
            ModelFile {
                name: "model.safetensors".to_string(),
                size: None,
                sha256: None,
            },
        ],
    }
}

/// A safetensors file written by hand from the format's description: two f32 tensors,
/// `b.weight` [2, 3] and `a.bias` [2], so 8 parameters.
fn tiny_safetensors() -> Vec<u8> {
    let header = r#"{"b.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"a.bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}}"#;
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    for v in [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 0.5, -0.5] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

fn sha256_of(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x");
    std::fs::write(&path, bytes).unwrap();
    sha256_file(&path).unwrap()
}

/// The hub's routes for the tiny model, with `model.safetensors` served the way the Hugging
/// Face hub serves LFS files: a redirect carrying X-Linked-ETag and X-Linked-Size, then the
/// bytes from another path.
fn tiny_hub(config: &[u8]) -> HashMap<String, Reply> {
    let weights = tiny_safetensors();
    let mut routes = HashMap::new();
    routes.insert(
        "/test/tiny/resolve/main/config.json".to_string(),
        Reply::ok(config),
    );
    routes.insert(
        "/test/tiny/resolve/main/model.safetensors".to_string(),
        Reply {
            status: 302,
            ..Reply::default()
        }
        .header("Location", "/cdn/blob/tiny")
        .header("X-Linked-ETag", &format!("\"{}\"", sha256_of(&weights)))
        .header("X-Linked-Size", &weights.len().to_string()),
    );
    routes.insert("/cdn/blob/tiny".to_string(), Reply::ok(&weights));
    routes
}

/// Serves `routes`, fetches the tiny model into a fresh store, and returns the error, the hub's
/// address and the store (alive for the leftovers check).
fn failed_fetch(routes: HashMap<String, Reply>) -> (String, String, tempfile::TempDir) {
    let hub = serve(routes);
    let root = tempfile::tempdir().unwrap();
    let err = Fetcher::new(&hub)
        .unwrap()
        .fetch(&Store::at(root.path()), &tiny_entry(), false)
        .unwrap_err()
        .to_string();
    (err, hub, root)
}

fn no_leftovers(dir: &Path, name: &str) {
    assert!(!dir.join(name).exists(), "{name} must not exist");
    assert!(
        !dir.join(format!("{name}.part")).exists(),
        "{name}.part must not exist"
    );
}

#[test]
fn fetch_downloads_and_verifies_every_file_then_keeps_them() {
    let hub = serve(tiny_hub(b"abc"));
    let root = tempfile::tempdir().unwrap();
    let store = Store::at(root.path());
    let fetcher = Fetcher::new(&hub).unwrap();
    let report = fetcher.fetch(&store, &tiny_entry(), false).unwrap();
    let dir = root.path().join("test/tiny");
    assert_eq!(report.dir, dir);
    assert_eq!(std::fs::read(dir.join("config.json")).unwrap(), b"abc");
    assert_eq!(
        std::fs::read(dir.join("model.safetensors")).unwrap(),
        tiny_safetensors()
    );
    assert_eq!(report.files[0].sha256, ABC_SHA256);
    assert_eq!(report.files[1].size, tiny_safetensors().len() as u64);
    assert!(
        report
            .files
            .iter()
            .all(|f| f.action == FetchAction::Downloaded)
    );
    let again = fetcher.fetch(&store, &tiny_entry(), false).unwrap();
    assert!(
        again
            .files
            .iter()
            .all(|f| f.action == FetchAction::AlreadyPresent)
    );
    let registry = Registry::new(vec![tiny_entry()]).unwrap();
    let location = store.resolve(&registry, "tiny").unwrap();
    assert_eq!(location.weights, dir.join("model.safetensors"));
}

#[test]
fn a_corrupted_download_is_refused_and_leaves_no_file() {
    let (err, _, root) = failed_fetch(tiny_hub(b"abd"));
    assert!(
        err.contains(&format!(
            "the download's sha256 is {}, quakelab's registry says {ABC_SHA256}; it was discarded",
            sha256_of(b"abd")
        )),
        "{err}"
    );
    no_leftovers(&root.path().join("test/tiny"), "config.json");
}

#[test]
fn a_download_shorter_than_the_hub_declares_is_refused() {
    let mut routes = tiny_hub(b"abc");
    routes.insert(
        "/cdn/blob/tiny".to_string(),
        Reply::ok(&tiny_safetensors()[..40]),
    );
    let (err, _, root) = failed_fetch(routes);
    let full = tiny_safetensors().len();
    assert!(
        err.contains(&format!(
            "the download has 40 bytes, the hub's X-Linked-Size says {full}; it was discarded"
        )),
        "{err}"
    );
    let dir = root.path().join("test/tiny");
    no_leftovers(&dir, "model.safetensors");
    // The file verified before the failure stays.
    assert_eq!(std::fs::read(dir.join("config.json")).unwrap(), b"abc");
}

#[test]
fn an_interrupted_download_leaves_no_file() {
    let mut routes = tiny_hub(b"abc");
    routes.insert(
        "/test/tiny/resolve/main/config.json".to_string(),
        Reply {
            claimed_length: Some(3),
            ..Reply::ok(b"a")
        },
    );
    let (err, _, root) = failed_fetch(routes);
    assert!(
        err.contains("the download broke off after 1 bytes of 3"),
        "{err}"
    );
    no_leftovers(&root.path().join("test/tiny"), "config.json");
}

#[test]
fn a_hub_file_that_is_not_the_pinned_one_is_refused_before_downloading() {
    let mut routes = tiny_hub(b"abc");
    routes.insert(
        "/test/tiny/resolve/main/config.json".to_string(),
        Reply::ok(b"abc").header("X-Linked-ETag", &format!("\"{}\"", "0".repeat(64))),
    );
    let (err, hub, root) = failed_fetch(routes);
    assert!(
        err.contains(&format!(
            "the hub declares sha256 {} for {hub}/test/tiny/resolve/main/config.json, \
             quakelab's registry pins {ABC_SHA256}",
            "0".repeat(64)
        )),
        "{err}"
    );
    no_leftovers(&root.path().join("test/tiny"), "config.json");
}

#[test]
fn a_file_whose_sha256_nobody_gives_is_refused() {
    let mut routes = tiny_hub(b"abc");
    routes.insert(
        "/test/tiny/resolve/main/model.safetensors".to_string(),
        Reply::ok(&tiny_safetensors()),
    );
    let (err, _, root) = failed_fetch(routes);
    assert!(
        err.contains("neither quakelab's registry nor the hub (X-Linked-ETag of"),
        "{err}"
    );
    no_leftovers(&root.path().join("test/tiny"), "model.safetensors");
}

#[test]
fn a_404_names_the_url() {
    let mut routes = tiny_hub(b"abc");
    routes.remove("/test/tiny/resolve/main/config.json");
    let (err, hub, root) = failed_fetch(routes);
    assert_eq!(
        err,
        format!("model hub: GET {hub}/test/tiny/resolve/main/config.json: HTTP 404 Not Found")
    );
    no_leftovers(&root.path().join("test/tiny"), "config.json");
}

#[test]
fn an_unreachable_hub_says_the_machine_is_offline_and_how_to_place_files() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let root = tempfile::tempdir().unwrap();
    let err = Fetcher::new(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .fetch(&Store::at(root.path()), &tiny_entry(), false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("this machine looks offline"), "{err}");
    assert!(
        err.contains(
            "download https://huggingface.co/test/tiny/resolve/main/config.json and \
             https://huggingface.co/test/tiny/resolve/main/model.safetensors"
        ),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "put the files in {}",
            root.path().join("test/tiny").display()
        )),
        "{err}"
    );
}

#[test]
fn a_present_file_that_does_not_verify_is_kept_unless_forced() {
    let hub = serve(tiny_hub(b"abc"));
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("test/tiny");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), "xyz").unwrap();
    let store = Store::at(root.path());
    let fetcher = Fetcher::new(&hub).unwrap();
    let err = fetcher
        .fetch(&store, &tiny_entry(), false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is already there but is not the expected file"),
        "{err}"
    );
    assert!(err.contains("rerun with --force to replace it"), "{err}");
    assert_eq!(std::fs::read(dir.join("config.json")).unwrap(), b"xyz");
    fetcher.fetch(&store, &tiny_entry(), true).unwrap();
    assert_eq!(std::fs::read(dir.join("config.json")).unwrap(), b"abc");
}

#[test]
fn resolving_a_missing_model_gives_the_fetch_command_and_the_folder() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::at(root.path());
    let registry = Registry::builtin();
    let Lookup::Missing(missing) = store.locate(&registry, "vit-b16-in21k").unwrap() else {
        panic!("an empty store holds no model");
    };
    assert_eq!(
        missing.fetch_command().unwrap(),
        "quakelab models fetch google/vit-base-patch16-224-in21k"
    );
    let err = store
        .resolve(&registry, "vit-b16-in21k")
        .unwrap_err()
        .to_string();
    let dir = root.path().join("google/vit-base-patch16-224-in21k");
    assert!(err.starts_with(&format!("{}: ", dir.display())), "{err}");
    assert!(
        err.contains("(config.json is missing; model.safetensors is missing)"),
        "{err}"
    );
    assert!(
        err.contains("Fetch it with `quakelab models fetch google/vit-base-patch16-224-in21k`"),
        "{err}"
    );
    assert!(
        err.contains("download config.json and model.safetensors from https://huggingface.co/"),
        "{err}"
    );
}

fn quakelab(args: &[&str], store: &Path, hub: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quakelab"));
    command.args(args).env("QUAKELAB_MODELS", store);
    match hub {
        Some(hub) => command.env("QUAKELAB_HUB_URL", hub),
        None => command.env_remove("QUAKELAB_HUB_URL"),
    };
    command.output().expect("the quakelab binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `config.json` of google/vit-base-patch16-224-in21k at the pinned revision, 502 bytes;
/// `tools/models/vit_in21k_config.py` rebuilds it and checks it against the hub's Git blob id.
const VIT_CONFIG: &str = r#"{
  "_name_or_path": "google/vit-base-patch16-224-in21k",
  "architectures": [
    "ViTModel"
  ],
  "attention_probs_dropout_prob": 0.0,
  "hidden_act": "gelu",
  "hidden_dropout_prob": 0.0,
  "hidden_size": 768,
  "image_size": 224,
  "initializer_range": 0.02,
  "intermediate_size": 3072,
  "layer_norm_eps": 1e-12,
  "model_type": "vit",
  "num_attention_heads": 12,
  "num_channels": 3,
  "num_hidden_layers": 12,
  "patch_size": 16,
  "qkv_bias": true,
  "transformers_version": "4.13.0.dev0"
}
"#;

#[test]
fn models_fetch_keeps_the_verified_config_and_refuses_corrupted_weights() {
    let revision = "b4569560a39a0f1af58e3ddaf17facf20ab919b0";
    let base = format!("/google/vit-base-patch16-224-in21k/resolve/{revision}");
    let mut routes = HashMap::new();
    routes.insert(
        format!("{base}/config.json"),
        Reply::ok(VIT_CONFIG.as_bytes()),
    );
    routes.insert(
        format!("{base}/model.safetensors"),
        Reply::ok(b"not the weights"),
    );
    let hub = serve(routes);
    let root = tempfile::tempdir().unwrap();
    let out = quakelab(
        &["models", "fetch", "vit-b16-in21k"],
        root.path(),
        Some(&hub),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains(
            "downloaded: config.json (502 bytes, sha256 \
             d477a481f825c170a1bb8cd5e4f5788319466ecf4ede0eb24e9cd923a9aa8fea, verified)"
        ),
        "{}",
        stdout(&out)
    );
    assert!(
        err.contains("the download's sha256 is")
            && err.contains(
                "quakelab's registry says \
                 fd4e1169c7aa6c2dbfa8a6448be13b35abc0ee256190857c90009d12c094619b"
            ),
        "{err}"
    );
    let dir = root.path().join("google/vit-base-patch16-224-in21k");
    assert_eq!(
        std::fs::read_to_string(dir.join("config.json")).unwrap(),
        VIT_CONFIG
    );
    no_leftovers(&dir, "model.safetensors");
}

#[test]
fn models_list_shows_hashes_sizes_and_the_registry_check() {
    let root = tempfile::tempdir().unwrap();
    let vit = root.path().join("google/vit-base-patch16-224-in21k");
    std::fs::create_dir_all(&vit).unwrap();
    std::fs::write(vit.join("config.json"), VIT_CONFIG).unwrap();
    let mine = root.path().join("me/mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("model.safetensors"), "abc").unwrap();
    let out = quakelab(&["models", "list"], root.path(), None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    let expected = [
        format!("model store: {}", root.path().display()),
        "google/vit-base-patch16-224-in21k (incomplete)".to_string(),
        "  config.json  502 bytes  sha256 \
         d477a481f825c170a1bb8cd5e4f5788319466ecf4ede0eb24e9cd923a9aa8fea  ok"
            .to_string(),
        "  model.safetensors  MISSING (run `quakelab models fetch \
         google/vit-base-patch16-224-in21k`)"
            .to_string(),
        "me/mine (not in quakelab's registry)".to_string(),
        format!("  model.safetensors  3 bytes  sha256 {ABC_SHA256}  not in the registry"),
    ];
    assert_eq!(text.lines().collect::<Vec<_>>(), expected, "{text}");
    // The hashes are cached beside the files, and the cache is not listed as a model file.
    assert!(mine.join("model.safetensors.sha256").is_file());
    let again = quakelab(&["models", "list"], root.path(), None);
    assert_eq!(stdout(&again), text);
}

#[test]
fn models_info_prints_the_config_and_the_tensor_inventory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), r#"{"hidden_size":2}"#).unwrap();
    std::fs::write(dir.path().join("model.safetensors"), tiny_safetensors()).unwrap();
    let out = quakelab(
        &["models", "info", dir.path().to_str().unwrap()],
        dir.path(),
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let weights = dir.path().join("model.safetensors");
    let expected = [
        "config.json:".to_string(),
        "{".to_string(),
        "  \"hidden_size\": 2".to_string(),
        "}".to_string(),
        format!(
            "weights: {} (safetensors, {} bytes)",
            weights.display(),
            tiny_safetensors().len()
        ),
        "parameters: 8".to_string(),
        "tensors: 2".to_string(),
        "  a.bias    [2]     f32".to_string(),
        "  b.weight  [2, 3]  f32".to_string(),
    ];
    let text = stdout(&out);
    assert_eq!(text.lines().collect::<Vec<_>>(), expected, "{text}");
}

#[test]
fn a_hub_size_that_is_not_the_pinned_one_is_refused_before_downloading() {
    let (err, hub, root) = failed_fetch(tiny_hub(b"abcd"));
    assert!(
        err.contains(&format!(
            "the hub's Content-Length for {hub}/test/tiny/resolve/main/config.json is 4 bytes, \
             quakelab's registry pins 3"
        )),
        "{err}"
    );
    no_leftovers(&root.path().join("test/tiny"), "config.json");
}

#[test]
fn a_redirect_loop_is_refused() {
    let mut routes = tiny_hub(b"abc");
    let path = "/test/tiny/resolve/main/config.json";
    routes.insert(
        path.to_string(),
        Reply {
            status: 302,
            ..Reply::default()
        }
        .header("Location", path),
    );
    let (err, hub, _root) = failed_fetch(routes);
    assert_eq!(
        err,
        format!("model hub: GET {hub}{path}: more than 10 redirects")
    );
}

#[test]
fn a_redirect_without_a_location_is_refused() {
    let mut routes = tiny_hub(b"abc");
    let path = "/test/tiny/resolve/main/config.json";
    routes.insert(
        path.to_string(),
        Reply {
            status: 302,
            ..Reply::default()
        },
    );
    let (err, hub, _root) = failed_fetch(routes);
    assert_eq!(
        err,
        format!("model hub: GET {hub}{path}: HTTP 302 Found without a Location to follow")
    );
}

#[test]
fn no_store_folder_without_quakelab_models_xdg_cache_home_or_home_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_quakelab"))
        .args(["models", "list"])
        .env_remove("QUAKELAB_MODELS")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("HOME")
        .output()
        .expect("the quakelab binary runs");
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "error: setting `QUAKELAB_MODELS`: no model store: set QUAKELAB_MODELS (or \
         XDG_CACHE_HOME or HOME) to a folder"
    );
}

#[test]
fn models_info_prints_a_tabpfn_checkpoints_own_config_and_unnested_tensors() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["model.ckpt", "model.safetensors"] {
        let path = crate::support::fixture("tabpfn", file);
        let out = quakelab(
            &["models", "info", path.to_str().unwrap()],
            dir.path(),
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = stdout(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "config (stored in the checkpoint):", "{text}");
        // The fixture's architecture (tools/parity/make_tabpfn.py): emsize 32, 100 buckets.
        assert!(
            text.contains("\"emsize\": 32") && text.contains("\"num_buckets\": 100"),
            "{text}"
        );
        assert!(text.contains("  encoder.5.layer.weight "), "{text}");
        assert!(!text.contains("state_dict."), "{text}");
    }
}
