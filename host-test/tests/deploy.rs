//! The Spin and wasmCloud manifests in `deploy/` name the artifact that
//! `cargo xtask dist` writes and every setting the composed REST/MCP component reads.

use std::collections::BTreeSet;

fn every_setting() -> BTreeSet<&'static str> {
    discord_connector::config::SETTINGS
        .iter()
        .chain(discord_rest_mcp::settings::SETTINGS)
        .copied()
        .collect()
}

fn manifest(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn the_spin_manifest_serves_the_composed_rest_mcp_component_with_every_setting() {
    let spin: toml::Value = toml::from_str(&manifest("spin.toml")).expect("valid TOML");
    assert_eq!(spin["spin_manifest_version"].as_integer(), Some(2));
    let trigger = &spin["trigger"]["http"][0];
    let name = trigger["component"].as_str().expect("a component");
    let component = &spin["component"][name];
    assert_eq!(
        component["source"].as_str(),
        Some("../dist/discord_rest_mcp.wasm")
    );
    assert_eq!(
        component["allowed_outbound_hosts"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        component["allowed_outbound_hosts"][0].as_str(),
        Some("https://discord.com")
    );
    let environment = component["environment"].as_table().expect("an environment");
    let variables = spin["variables"].as_table().expect("variables");
    for setting in every_setting() {
        let as_variable = setting.to_ascii_lowercase();
        assert!(
            environment.contains_key(setting) || variables.contains_key(&as_variable),
            "{setting} reaches the component"
        );
    }
    assert_eq!(
        variables["discord_client_secret"]["secret"].as_bool(),
        Some(true)
    );
    assert!(
        !environment.contains_key("DISCORD_CLIENT_SECRET"),
        "no secret written in the manifest"
    );
}

#[test]
fn the_wasmcloud_manifest_serves_the_composed_rest_mcp_component_with_every_setting() {
    let text = manifest("wasmcloud.yaml");
    let documents: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&text)
        .map(|document| serde::Deserialize::deserialize(document).expect("valid YAML"))
        .collect();
    let of_kind = |kind: &str| {
        documents
            .iter()
            .find(|document| document["kind"].as_str() == Some(kind))
            .unwrap_or_else(|| panic!("a {kind}"))
    };
    let workload = of_kind("WorkloadDeployment");
    assert_eq!(
        workload["apiVersion"].as_str(),
        Some("runtime.wasmcloud.dev/v1alpha1")
    );
    assert_eq!(
        workload["metadata"]["annotations"]["agent-tools.dev/artifact"].as_str(),
        Some("dist/discord_rest_mcp.wasm")
    );
    let spec = &workload["spec"]["template"]["spec"];
    let handler = &spec["hostInterfaces"][0];
    assert_eq!(
        (
            handler["namespace"].as_str(),
            handler["package"].as_str(),
            handler["interfaces"][0].as_str()
        ),
        (Some("wasi"), Some("http"), Some("incoming-handler"))
    );
    let component = &spec["components"][0];
    assert!(
        component["image"]
            .as_str()
            .unwrap()
            .contains("discord_rest_mcp.wasm")
    );
    let resources = &component["localResources"];
    assert_eq!(resources["allowedHosts"][0].as_str(), Some("discord.com"));
    let mut provided: BTreeSet<String> = resources["environment"]["config"]
        .as_mapping()
        .expect("config")
        .keys()
        .filter_map(|key| key.as_str().map(str::to_owned))
        .collect();
    for (field, kind, data) in [
        ("configFrom", "ConfigMap", "data"),
        ("secretFrom", "Secret", "stringData"),
    ] {
        let referenced = resources["environment"][field][0]["name"]
            .as_str()
            .expect(field);
        let document = of_kind(kind);
        assert_eq!(document["metadata"]["name"].as_str(), Some(referenced));
        provided.extend(
            document[data]
                .as_mapping()
                .expect(data)
                .keys()
                .filter_map(|key| key.as_str().map(str::to_owned)),
        );
    }
    for setting in every_setting() {
        assert!(
            provided.contains(setting),
            "{setting} reaches the component"
        );
    }
    let secret = of_kind("Secret");
    assert!(secret["stringData"]["DISCORD_CLIENT_SECRET"].is_string());
}
