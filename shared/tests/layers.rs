//! The common crate's layers, as `src/lib.rs` declares them (`// layer: Name` above its modules), kept:
//! every `crate::` path in a module's code names a module of its own layer or of a layer declared
//! before it. Unit tests (`#[cfg(test)]` modules, `tests.rs` files) may reach anything.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each top-level module's layer, by its position in `lib.rs` (0 innermost), with the layers' names.
fn declared(lib: &str) -> (BTreeMap<String, usize>, Vec<String>) {
    let mut layers: Vec<String> = Vec::new();
    let mut of = BTreeMap::new();
    for line in lib.lines() {
        if let Some(rest) = line.strip_prefix("// layer: ") {
            let name = rest.split([' ', '—']).next().unwrap_or(rest);
            layers.push(name.to_owned());
        } else if let Some(module) = line
            .strip_prefix("pub mod ")
            .and_then(|m| m.strip_suffix(';'))
        {
            assert!(
                !layers.is_empty(),
                "`pub mod {module};` in lib.rs is above every `// layer:` line"
            );
            of.insert(module.to_owned(), layers.len() - 1);
        }
    }
    (of, layers)
}

/// The code of a file with comments and `#[cfg(test)]` modules left out.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        if t.starts_with("#[cfg(test)]") {
            let Some(next) = lines.next() else { break };
            let n = next.trim_start();
            if n.starts_with("mod ") && n.trim_end().ends_with('{') {
                let mut depth = 1i32;
                for inner in lines.by_ref() {
                    depth += inner.matches('{').count() as i32;
                    depth -= inner.matches('}').count() as i32;
                    if depth <= 0 {
                        break;
                    }
                }
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The top-level modules a piece of code names through `crate::`.
fn used(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "tests") {
                sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
}

/// Every path in `src/` that runs against the layers: `(file, module used, why)`.
fn crossings(src: &Path) -> Vec<String> {
    let (layer_of, layers) = declared(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap();
        let Some(module) = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|m| m.trim_end_matches(".rs").to_owned())
        else {
            continue;
        };
        if module == "lib" {
            continue;
        }
        let own = *layer_of
            .get(&module)
            .unwrap_or_else(|| panic!("{} is in no layer of lib.rs", relative.display()));
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        for target in used(&code) {
            let Some(&theirs) = layer_of.get(&target) else {
                continue; // a re-export at the root (`crate::Channel`): its module is checked
            };
            if theirs > own {
                wrong.push(format!(
                    "{} ({}) uses crate::{target} ({})",
                    relative.display(),
                    layers[own],
                    layers[theirs]
                ));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    wrong
}

#[test]
fn no_module_uses_a_layer_declared_after_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let wrong = crossings(&src);
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_check_sees_a_crossing_and_ignores_comments_and_unit_tests() {
    let dir = std::env::temp_dir().join(format!("layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("inner")).unwrap();
    std::fs::write(
        dir.join("lib.rs"),
        "// layer: Inner — x\npub mod inner;\n// layer: Outer — y\npub mod outer;\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("inner/mod.rs"),
        "//! see [`crate::outer`]\nuse crate::inner::x;\n#[cfg(test)]\nmod tests {\n    use crate::outer::Y;\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("outer.rs"), "use crate::inner::X;\n").unwrap();
    assert!(
        crossings(&dir).is_empty(),
        "comments and unit tests are not code"
    );
    std::fs::write(dir.join("inner/deep.rs"), "fn f() { crate::outer::g() }\n").unwrap();
    assert_eq!(
        crossings(&dir),
        ["inner/deep.rs (Inner) uses crate::outer (Outer)"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
