//! The post-mortem as one self-contained HTML page: the Markdown report
//! rendered to HTML, and the timeline chart as inline SVG, in a minijinja
//! template with HTML auto-escaping. The page loads nothing (inline CSS,
//! no script, no external URL), and its Content-Security-Policy forbids
//! scripts should anything slip through.
//!
//! Text from a runbook or a journal reaches the page two ways, both inert:
//! through the template, escaped by minijinja; or inside the Markdown,
//! where the report's own escaping applies and the conversion below turns
//! any raw HTML back into text, keeps only http(s) and mailto links, and
//! drops images (they would load something).

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

use super::chart::Chart;

/// The template's name ends in `.html`: minijinja escapes every value in it.
const TEMPLATE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("page.html");

#[derive(Debug, thiserror::Error)]
#[error("cannot render the HTML report: {0}")]
pub struct HtmlError(#[from] minijinja::Error);

pub(super) fn page(incident_id: &str, markdown: &str, chart: &Chart) -> Result<String, HtmlError> {
    let mut env = minijinja::Environment::new();
    env.add_template(TEMPLATE_NAME, TEMPLATE)?;
    // The report's first line is its title: the page shows it above the chart.
    let (title, rest) = match markdown.split_once('\n') {
        Some((first, rest)) if first.starts_with("# ") => (&first[2..], rest),
        _ => (incident_id, markdown),
    };
    let body = markdown_to_html(rest);
    let page = env
        .get_template(TEMPLATE_NAME)?
        .render(minijinja::context! {
            // Undo the report's Markdown escaping for the <title>, which
            // minijinja escapes for HTML.
            title => title.replace("&lt;", "<").replace("\\[", "["),
            incident => incident_id,
            chart => minijinja::Value::from(minijinja::value::Serde(chart)),
            // Built by pulldown-cmark from events this module made inert.
            body => minijinja::Value::from_safe_string(body),
        })?;
    Ok(page)
}

/// Markdown to HTML with raw HTML shown as text, links kept only to
/// http(s) and mailto, images reduced to their text.
pub(super) fn markdown_to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
    // For each open link or image: whether its start tag was dropped, so
    // that its end is dropped too.
    let mut dropped: Vec<bool> = Vec::new();
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { ref dest_url, .. }) => {
            let keep = safe_link(dest_url);
            dropped.push(!keep);
            keep.then_some(event)
        }
        Event::Start(Tag::Image { .. }) => {
            dropped.push(true);
            None
        }
        Event::End(TagEnd::Link | TagEnd::Image) => {
            if dropped.pop().unwrap_or(true) {
                None
            } else {
                Some(event)
            }
        }
        other => Some(other),
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

fn safe_link(dest: &CowStr<'_>) -> bool {
    let dest = dest.trim().to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| dest.starts_with(scheme))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_links_and_images_are_made_inert() {
        let html = markdown_to_html(
            "<script>alert(1)</script>\n\n\
             a <img src=x onerror=alert(1)> b\n\n\
             [x](javascript:alert(1)) [y]( JAVASCRIPT:alert(1)) [z](data:text/html,hi)\n\n\
             ![i](https://tracker.example/p.png) <https://ok.example/a> [m](mailto:a@b.c)\n",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.to_lowercase().contains("href=\"javascript"), "{html}");
        assert!(!html.contains("href=\"data:"), "{html}");
        assert!(
            !html.contains("tracker.example"),
            "the image's URL is gone: {html}"
        );
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(
            html.contains(r#"<a href="https://ok.example/a">"#),
            "{html}"
        );
        assert!(html.contains(r#"<a href="mailto:a@b.c">"#), "{html}");
    }
}
