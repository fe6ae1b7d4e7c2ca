//! The state file: every object and the resourceVersion counter as JSON,
//! loaded at start and saved at exit (`driftdeck sim --state FILE`). Both
//! directions stream object by object, so a large state never sits in
//! memory twice; saving writes a temporary file beside the real one and
//! renames it, so a crash never leaves half a file.

use std::fmt;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::SimError;
use super::store::{State, Store, StoredObject};

const FORMAT_VERSION: u64 = 1;

/// Loads a state file into a store; the number of objects loaded.
pub fn load(store: &Store, path: &Path) -> Result<usize, SimError> {
    let file = std::fs::File::open(path).map_err(|source| SimError::ReadState {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |message: String| SimError::InvalidState {
        path: path.to_path_buf(),
        message,
    };
    store.write(|state| {
        let mut reader = serde_json::Deserializer::from_reader(BufReader::new(file));
        let loaded = (&mut reader)
            .deserialize_map(DocumentVisitor { state })
            .map_err(|e| invalid(e.to_string()))?;
        reader.end().map_err(|e| invalid(e.to_string()))?;
        if loaded.version != Some(FORMAT_VERSION) {
            return Err(invalid(format!(
                "expected \"version\": {FORMAT_VERSION}, found {}",
                loaded.version.map_or("none".to_string(), |v| v.to_string())
            )));
        }
        state.advance_revision(loaded.revision);
        Ok(loaded.objects)
    })
}

struct Loaded {
    version: Option<u64>,
    revision: u64,
    objects: usize,
}

struct DocumentVisitor<'a> {
    state: &'a mut State,
}

impl<'de> Visitor<'de> for DocumentVisitor<'_> {
    type Value = Loaded;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with \"version\", \"resourceVersion\" and \"objects\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loaded, A::Error> {
        let mut loaded = Loaded {
            version: None,
            revision: 0,
            objects: 0,
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" => loaded.version = Some(map.next_value()?),
                "resourceVersion" => {
                    let text: String = map.next_value()?;
                    loaded.revision = text.parse().map_err(|_| {
                        de::Error::custom(format!("resourceVersion {text:?} is not a number"))
                    })?;
                }
                "objects" => {
                    loaded.objects = map.next_value_seed(ObjectsSeed {
                        state: &mut *self.state,
                    })?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(loaded)
    }
}

struct ObjectsSeed<'a> {
    state: &'a mut State,
}

impl<'de> DeserializeSeed<'de> for ObjectsSeed<'_> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ObjectsSeed<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        // Objects were saved in resourceVersion order, so a CRD comes before
        // its resources; any that does not waits for the end.
        let mut waiting = Vec::new();
        let mut index = 0;
        while let Some(object) = seq.next_element::<Value>()? {
            if !restore(self.state, &object, index, false).map_err(de::Error::custom)? {
                waiting.push((index, object));
            }
            index += 1;
        }
        for (index, object) in waiting {
            restore(self.state, &object, index, true).map_err(de::Error::custom)?;
        }
        Ok(index)
    }
}

/// Restores one object; `false` when its kind is not (yet) served and
/// `last_chance` is not set.
fn restore(
    state: &mut State,
    object: &Value,
    index: usize,
    last_chance: bool,
) -> Result<bool, String> {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let (api_version, kind, name) = (text("/apiVersion"), text("/kind"), text("/metadata/name"));
    let Some(rt) = state.catalog.by_kind(api_version, kind) else {
        if last_chance {
            return Err(format!(
                "object {index} ({api_version} {kind} {name:?}) is of a kind the cluster does not serve"
            ));
        }
        return Ok(false);
    };
    if name.is_empty() {
        return Err(format!("object {index} ({kind}) has no metadata.name"));
    }
    state.restore(&rt.key(), object);
    if rt.group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition" {
        let types = state
            .catalog
            .types_of_crd(object)
            .map_err(|p| format!("CRD {name:?}: {}: {}", p[0].field, p[0].message))?;
        state.catalog.install(name, types);
    }
    if rt.group.is_empty() && kind == "Service" {
        state.allocations.claim(object);
    }
    Ok(true)
}

/// Writes every object to `path`, atomically, in resourceVersion order.
pub fn save(store: &Store, path: &Path) -> Result<(), SimError> {
    let write_error = |source| SimError::Write {
        path: path.to_path_buf(),
        source,
    };
    let (revision, mut objects): (u64, Vec<Arc<StoredObject>>) = {
        let state = store.read();
        (
            state.revision(),
            state.all_objects().map(|(_, o)| o.clone()).collect(),
        )
    };
    objects.sort_by_key(|o| o.resource_version);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state.json".into());
    let temporary = path.with_file_name(format!(".{file_name}.tmp"));
    let file = std::fs::File::create(&temporary).map_err(write_error)?;
    let mut out = BufWriter::new(file);
    let written = (|| -> std::io::Result<()> {
        write!(
            out,
            "{{\"version\":{FORMAT_VERSION},\"resourceVersion\":\"{revision}\",\"objects\":["
        )?;
        for (index, object) in objects.iter().enumerate() {
            out.write_all(if index == 0 { b"\n" } else { b",\n" })?;
            out.write_all(&object.json)?;
        }
        out.write_all(b"\n]}\n")?;
        out.flush()
    })();
    written.map_err(write_error)?;
    std::fs::rename(&temporary, path).map_err(write_error)
}
