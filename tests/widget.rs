//! The embeddable widget: its script is served with registered persisted queries, and a
//! partner's page that uses it (`tests/widget/page.html`, on an origin of its own) shows
//! the demo network's data in headless Chromium.

use samverkan_tests::{Caller, TestApp};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The `(name, hash)` of every document the served script names.
fn documents(script: &str) -> Vec<(String, String)> {
    let field = |from: &str, key: &str| {
        let start = from.find(&format!("\"{key}\":\""))? + key.len() + 4;
        let end = from[start..].find('"')? + start;
        Some(from[start..end].to_owned())
    };
    script
        .match_indices("{\"hash\":")
        .filter_map(|(at, _)| {
            let entry = &script[at..at + 200.min(script.len() - at)];
            Some((field(entry, "name")?, field(entry, "hash")?))
        })
        .collect()
}

#[tokio::test]
async fn the_widget_script_asks_for_registered_documents_only() {
    let app = TestApp::with_demo().await;
    let response = app
        .client
        .get(format!("{}/embed/samverkan.js", app.url))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(headers.contains_key("etag"));
    let script = response.text().await.expect("text");
    let documents = documents(&script);
    assert_eq!(documents.len(), 4, "{documents:?}");
    // Each runs by its hash alone on a fresh server, as a page's first request does.
    for (name, hash) in documents {
        let variables = if name == "SamverkanNetworkFeed" {
            json!({})
        } else {
            json!({ "slug": "no-such-slug" })
        };
        let response = app
            .client
            .get(format!("{}/graphql", app.url))
            .query(&[
                ("operationName", name.as_str()),
                ("variables", &variables.to_string()),
                (
                    "extensions",
                    &json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string(),
                ),
            ])
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 200, "{name}");
        let body: Value = response.json().await.expect("json");
        assert!(body.get("errors").is_none(), "{name}: {body}");
        assert!(body["data"].is_object(), "{name}: {body}");
    }
}

/// Serves `page` to every request on `listener`, and `script` at `/axe.min.js`.
fn serve_page(listener: tokio::net::TcpListener, page: String, script: Option<String>) {
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (page, script) = (page.clone(), script.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let (kind, body) = match script {
                    Some(script) if request.starts_with(b"GET /axe.min.js ") => {
                        ("text/javascript", script)
                    }
                    _ => ("text/html", page),
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {kind}; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
}

/// Chromium's path, if this machine has it; without it a browser test is skipped, unless
/// `SAMVERKAN_TEST_BROWSER` is set (as in CI), which makes it required.
fn chromium() -> Option<std::path::PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|path| path.exists());
    if found.is_none() {
        assert!(
            std::env::var("SAMVERKAN_TEST_BROWSER").is_err(),
            "SAMVERKAN_TEST_BROWSER is set but Chromium is not installed"
        );
        eprintln!("skipped: Chromium is not installed (CI installs it)");
    }
    found
}

/// axe-core's script (`SAMVERKAN_TEST_AXE`, a path; CI installs it), required with
/// `SAMVERKAN_TEST_BROWSER` as Chromium is.
fn axe() -> Option<String> {
    let found = std::env::var("SAMVERKAN_TEST_AXE")
        .ok()
        .map(|path| std::fs::read_to_string(&path).expect("SAMVERKAN_TEST_AXE names axe.min.js"));
    if found.is_none() {
        assert!(
            std::env::var("SAMVERKAN_TEST_BROWSER").is_err(),
            "SAMVERKAN_TEST_BROWSER is set but SAMVERKAN_TEST_AXE is not"
        );
        eprintln!("the accessibility check is skipped: SAMVERKAN_TEST_AXE is not set (CI sets it)");
    }
    found
}

/// Text copied into the page's `<pre id="{id}">`, as --dump-dom shows it.
fn copied(dom: &str, id: &str) -> String {
    dom.split(&format!("<pre id=\"{id}\" hidden=\"\">"))
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_default()
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Runs headless Chromium on `url` with `args`; its standard output.
async fn headless(chromium: &std::path::Path, url: &str, args: &[String]) -> String {
    let mut command = std::process::Command::new(chromium);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--virtual-time-budget=20000",
    ]);
    command.args(args).arg(url);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("joined")
        .expect("chromium runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn the_widget_renders_the_demo_network_in_a_browser() {
    let Some(chromium) = chromium() else {
        return;
    };
    let app = TestApp::with_demo().await;
    // What the page should show, as the API gives it to a partner.
    let seen = app
        .post_as(
            &Caller::Anonymous,
            "{ organisations(first: 50) { nodes { slug name dialogues(first: 1) { nodes { title } } proposals(first: 1) { nodes { title } } } } goals(first: 1) { nodes { slug title progress { current target } } } dialogues(first: 1) { nodes { title } } }",
            json!({}),
        )
        .await
        .1;
    let organisation = seen["data"]["organisations"]["nodes"]
        .as_array()
        .expect("organisations")
        .iter()
        .find(|o| {
            o["dialogues"]["nodes"]
                .as_array()
                .is_some_and(|d| !d.is_empty())
                && o["proposals"]["nodes"]
                    .as_array()
                    .is_some_and(|p| !p.is_empty())
        })
        .expect("a public organisation with dialogues and proposals")
        .clone();
    let goal = seen["data"]["goals"]["nodes"][0].clone();
    let latest = seen["data"]["dialogues"]["nodes"][0]["title"]
        .as_str()
        .expect("a dialogue")
        .to_owned();

    // The page is on an origin of its own, which a partner token names.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("address"));
    let token = app
        .partner_token("Partner page", "READ_PUBLIC", &[&origin])
        .await;
    let page = include_str!("widget/page.html")
        .replace("{{API}}", &app.url)
        .replace("{{TOKEN}}", &token)
        .replace(
            "{{ORGANISATION}}",
            organisation["slug"].as_str().expect("slug"),
        )
        .replace("{{GOAL}}", goal["slug"].as_str().expect("slug"));
    let axe = axe();
    let page = page.replace(
        "{{AXE}}",
        if axe.is_some() {
            "<script src=\"/axe.min.js\"></script>"
        } else {
            ""
        },
    );
    let checked = axe.is_some();
    serve_page(listener, page, axe);
    let url = format!("{origin}/");
    let dom = headless(&chromium, &url, &["--dump-dom".to_owned()]).await;
    let rendered = copied(&dom, "rendered");
    assert!(
        !rendered.is_empty(),
        "the feeds did not render; the page was:\n{dom}"
    );
    let feeds: Vec<&str> = rendered.split("\n----\n").collect();
    assert_eq!(feeds.len(), 3, "{rendered}");
    assert!(
        !rendered.contains("role=\"alert\""),
        "an error shows: {rendered}"
    );
    // The whole network, in Swedish: headings, the latest dialogue, goal progress bars.
    assert!(feeds[0].contains("<div lang=\"sv\">"), "{}", feeds[0]);
    assert!(feeds[0].contains("<h2") && feeds[0].contains("Senaste dialoger"));
    assert!(
        feeds[0].contains(&latest),
        "the latest dialogue: {}",
        feeds[0]
    );
    assert!(feeds[0].contains("<progress"), "goal progress bars");
    // One organisation, in English.
    assert!(feeds[1].contains("<div lang=\"en\">"));
    assert!(feeds[1].contains(organisation["name"].as_str().expect("name")));
    assert!(
        feeds[1].contains(
            organisation["dialogues"]["nodes"][0]["title"]
                .as_str()
                .expect("title")
        )
    );
    assert!(feeds[1].contains("Latest dialogues") && feeds[1].contains("class=\"status\""));
    // One goal with its progress as the API computes it.
    let (current, target) = (&goal["progress"]["current"], &goal["progress"]["target"]);
    assert!(feeds[2].contains(goal["title"].as_str().expect("title")));
    assert!(
        feeds[2].contains(&format!("{current} av {target}")),
        "{}",
        feeds[2]
    );

    // Accessible: no violation of WCAG 2.1 A or AA that axe-core finds, shadow roots
    // included (contrast, names, headings, lang, ...).
    if checked {
        let report: Value = serde_json::from_str(&copied(&dom, "axe"))
            .unwrap_or_else(|_| panic!("axe-core ran on the page:\n{dom}"));
        assert!(
            report["passes"].as_u64().unwrap_or(0) > 0,
            "axe-core checked something: {report}"
        );
        assert_eq!(report["violations"], json!([]), "{report:#}");
        println!(
            "axe-core: {} WCAG 2.1 A/AA rules passed, none violated",
            report["passes"]
        );
    }

    // A screenshot for people to look at, in the test output.
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-output/widget.png");
    std::fs::create_dir_all(path.parent().expect("folder")).expect("folder");
    headless(
        &chromium,
        &url,
        &[
            format!("--screenshot={}", path.display()),
            "--window-size=900,1600".to_owned(),
            "--hide-scrollbars".to_owned(),
        ],
    )
    .await;
    assert!(path.exists(), "the screenshot was written");
    println!("widget screenshot: {}", path.display());
}

#[tokio::test]
async fn graphiql_starts_in_a_browser_that_can_reach_no_other_host() {
    let Some(chromium) = chromium() else {
        return;
    };
    let app = TestApp::start().await;
    let dom = headless(
        &chromium,
        &format!("{}/graphiql", app.url),
        &[
            // Every other host fails to resolve: nothing may come from a CDN.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1".to_owned(),
            "--dump-dom".to_owned(),
        ],
    )
    .await;
    assert!(
        dom.contains("graphiql-container"),
        "GraphiQL did not start:\n{dom}"
    );
    assert!(dom.contains("Welcome"), "the welcome query shows");
    assert!(!dom.contains("Loading GraphiQL"), "{dom}");
}
