//! The console's one page, rendered on the server. Every value from the
//! store goes through maud's escaping: a payload holding `<script>` is
//! shown as text, never run.

use super::actions::{Action, Actions, Outcome};
use super::{breakdown, depth_state, nonempty, parse_id, rfc3339};
use event_delivery::Replay;
use event_delivery::{DeadLetter, DeadLetterError, DeadLetterFilter};
use maud::{DOCTYPE, Markup, html};

/// How many remembered actions the page lists.
const RECENT: usize = 10;
/// How many bytes of a payload the hex dump shows.
const HEX_LIMIT: usize = 64 * 1024;

/// The page's query: the list's filter, the entry open, the confirmation
/// asked for, the action just done.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct PageQuery {
    consumer: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    entry: Option<String>,
    confirm: Option<String>,
    bulk_consumer: Option<String>,
    bulk_type: Option<String>,
    done: Option<String>,
}

/// `/?key=value&…` for the values that are set.
fn href(pairs: &[(&str, Option<&str>)]) -> String {
    let mut url = String::from("/");
    let mut sep = '?';
    for (key, value) in pairs {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            url.push(sep);
            url.push_str(key);
            url.push('=');
            url.extend(percent_encoding::utf8_percent_encode(
                v,
                percent_encoding::NON_ALPHANUMERIC,
            ));
            sep = '&';
        }
    }
    url
}

/// Offset, sixteen bytes in hex, and the printable ASCII of each line.
pub(crate) fn hex_dump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes[..bytes.len().min(HEX_LIMIT)].chunks(16).enumerate() {
        out.push_str(&format!("{:08x}  ", line * 16));
        for i in 0..16 {
            match chunk.get(i) {
                Some(b) => out.push_str(&format!("{b:02x} ")),
                None => out.push_str("   "),
            }
            if i == 7 {
                out.push(' ');
            }
        }
        out.push_str(" |");
        out.extend(chunk.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        }));
        out.push_str("|\n");
    }
    if bytes.len() > HEX_LIMIT {
        out.push_str(&format!(
            "… {} more bytes (GET /api/entries/{{id}} has them all)\n",
            bytes.len() - HEX_LIMIT
        ));
    }
    out
}

/// `2026-12-02 01:00:16Z`: the list's column, to the second.
fn short_time(t: time::OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]Z"
        ))
        .unwrap_or_else(|_| rfc3339(t))
}

/// The payload as the consumer would read it: pretty JSON, or why not.
fn decoded(payload: &[u8]) -> (bool, String) {
    match serde_json::from_slice::<serde_json::Value>(payload) {
        Ok(v) => (
            true,
            serde_json::to_string_pretty(&v).unwrap_or_else(|e| e.to_string()),
        ),
        Err(e) => (
            false,
            format!(
                "not JSON ({e}); as text:\n{}",
                String::from_utf8_lossy(payload)
            ),
        ),
    }
}

fn outcome_line(o: &Outcome) -> Markup {
    html! {
        span.outcome {
            span.n data-k="retried" { (o.retried) } " retried · "
            @match o.handled {
                Some(h) => { span.n data-k="handled" { (h) } " handled · " }
                None => {}
            }
            span.n.bad[o.failed_again > 0] data-k="failed-again" { (o.failed_again) } " failed again"
            @match o.waiting {
                Some(w) => { " · " span.n data-k="waiting" { (w) } " waiting in the queue" }
                None => { " · the rest handled or waiting (this store cannot see its queue)" }
            }
            @if o.untracked > 0 {
                " · " (o.untracked) " without an event id, not followed"
            }
        }
    }
}

struct View<'a> {
    q: &'a PageQuery,
    csrf: &'a str,
    filter: DeadLetterFilter,
}

impl View<'_> {
    fn back(&self) -> Markup {
        html! {
            input type="hidden" name="csrf" value=(self.csrf);
            @if let Some(c) = &self.filter.consumer { input type="hidden" name="back_consumer" value=(c); }
            @if let Some(t) = &self.filter.event_type { input type="hidden" name="back_type" value=(t); }
        }
    }

    fn link(&self, extra: &[(&str, Option<&str>)]) -> String {
        let mut pairs = vec![
            ("consumer", self.filter.consumer.as_deref()),
            ("type", self.filter.event_type.as_deref()),
        ];
        pairs.extend_from_slice(extra);
        href(&pairs)
    }
}

pub(crate) async fn render<R: Replay>(
    store: &R,
    actions: &Actions,
    csrf: &str,
    q: PageQuery,
) -> Result<String, DeadLetterError> {
    let all = store.list(&DeadLetterFilter::all()).await?;
    let filter = DeadLetterFilter {
        consumer: nonempty(q.consumer.clone()),
        event_type: nonempty(q.event_type.clone()),
    };
    let view = View {
        q: &q,
        csrf,
        filter,
    };
    let shown: Vec<&DeadLetter> = all.iter().filter(|e| view.filter.matches(e)).collect();
    let rows = breakdown(&all);
    let mut consumers: Vec<&str> = all.iter().map(|e| e.consumer.as_str()).collect();
    consumers.sort_unstable();
    consumers.dedup();
    let mut types: Vec<&str> = all.iter().filter_map(|e| e.event_type.as_deref()).collect();
    types.sort_unstable();
    types.dedup();

    let mut notice: Option<(bool, String)> = None;
    let selected = match q.entry.as_deref().filter(|e| !e.is_empty()) {
        None => None,
        Some(raw) => match parse_id(raw) {
            None => {
                notice = Some((false, super::bad_id(raw)));
                None
            }
            Some(id) => {
                let found = store.get(id).await?;
                if found.is_none() && q.done.is_none() {
                    notice = Some((
                        false,
                        format!(
                            "{id} is not in the dead letter queue: it was retried or discarded."
                        ),
                    ));
                }
                found
            }
        },
    };

    let done: Option<(Action, Option<Outcome>)> =
        match q.done.as_deref().and_then(|d| d.parse::<u64>().ok()) {
            Some(n) => match actions.get(n) {
                Some(a) => {
                    let o = actions.outcome(n, &all, store).await?;
                    Some((a, o))
                }
                None => None,
            },
            None => None,
        };
    let mut recent = Vec::new();
    for a in actions.recent().into_iter().take(RECENT) {
        let o = actions.outcome(a.number, &all, store).await?;
        recent.push((a, o));
    }
    let settling = done
        .as_ref()
        .and_then(|(_, o)| o.as_ref())
        .is_some_and(|o| o.waiting.is_some_and(|w| w > 0));

    let total = all.len();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if settling {
                    // Until every retried event is handled or back here.
                    meta http-equiv="refresh" content="2";
                }
                title { "Dead letters (" (total) ") · event-ops" }
                link rel="stylesheet" href="/assets/console.css";
            }
            body {
                header {
                    h1 { a href="/" { "Dead letters" } }
                    span #total class=(format!("badge {}", depth_state(total))) data-depth=(total) {
                        (total) @if total == 1 { " entry" } @else { " entries" }
                    }
                    span.legend { "warning above 0, critical above " (super::CRITICAL_DEPTH) }
                }
                @if let Some((action, outcome)) = &done {
                    div #result class=(if action.done { "result ok" } else { "result failed" }) {
                        p.message { (action.message) }
                        @if let Some(o) = outcome { p { (outcome_line(o)) @if settling { " — updating" } } }
                    }
                }
                @if let Some((ok, message)) = &notice {
                    div #result class=(if *ok { "result ok" } else { "result failed" }) { p.message { (message) } }
                }
                (confirm(&view, &all))
                main.with-entry[selected.is_some()] {
                    section #depth {
                        h2 { "Depth by consumer and event type" }
                        @if rows.is_empty() {
                            p.empty { "The dead letter queue is empty." }
                        } @else {
                            table {
                                thead { tr { th { "Consumer" } th { "Event type" } th.num { "Depth" } th {} } }
                                tbody {
                                    @for (consumer, event_type, depth) in &rows {
                                        tr.depth data-consumer=(consumer) data-type=[event_type.as_deref()] data-depth=(depth) data-state=(depth_state(*depth)) {
                                            td { (consumer) }
                                            td { (event_type.as_deref().unwrap_or("(unreadable)")) }
                                            td.num { span class=(format!("badge {}", depth_state(*depth))) { (depth) } }
                                            td.actions {
                                                a href=(href(&[("consumer", Some(consumer)), ("type", event_type.as_deref())])) { "Show" }
                                                @if let Some(t) = event_type {
                                                    " "
                                                    a.button.bulk href=(view.link(&[("confirm", Some("bulk")), ("bulk_consumer", Some(consumer)), ("bulk_type", Some(t))])) { "Retry all…" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    section #entries {
                        h2 { "Entries" }
                        form.filter method="get" action="/" {
                            label { "Consumer " select name="consumer" {
                                option value="" { "all" }
                                @for c in &consumers { option value=(c) selected[view.filter.consumer.as_deref() == Some(*c)] { (c) } }
                            } }
                            label { " Type " select name="type" {
                                option value="" { "all" }
                                @for t in &types { option value=(t) selected[view.filter.event_type.as_deref() == Some(*t)] { (t) } }
                            } }
                            " " button type="submit" { "Filter" }
                            @if view.filter != DeadLetterFilter::all() { " " a href="/" { "clear" } }
                        }
                        p.count { (shown.len()) " shown, oldest first" }
                        table #list {
                            thead { tr { th { "Id" } th { "Consumer" } th { "Event type" } th.num { "Attempts" } th { "Class" } th { "Last failure" } th { "Error" } } }
                            tbody {
                                @for e in &shown {
                                    tr.entry #(e.id) .selected[selected.as_ref().is_some_and(|s| s.id == e.id)] {
                                        td { a href=(view.link(&[("entry", Some(&e.id.to_string()))])) { (e.id) } }
                                        td { (e.consumer) }
                                        td { (e.event_type.as_deref().unwrap_or("(unreadable)")) }
                                        td.num { (e.attempts) }
                                        td { span class=(format!("class {}", crate::class_name(e.class))) { (crate::class_name(e.class)) } }
                                        td.time title=(rfc3339(e.last_failure)) { (short_time(e.last_failure)) }
                                        td.error { (e.error) }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(e) = &selected { (detail(&view, e)) }
                    @if !recent.is_empty() {
                        section #actions {
                            h2 { "Recent actions (this console)" }
                            table {
                                thead { tr { th { "#" } th { "At" } th { "Action" } th { "Result" } } }
                                tbody {
                                    @for (a, o) in &recent {
                                        tr.action data-action=(a.number) {
                                            td { (a.number) }
                                            td.time title=(rfc3339(a.at)) { (short_time(a.at)) }
                                            td { (a.what) }
                                            td class=(if a.done { "ok" } else { "failed" }) {
                                                @match o { Some(o) => { (outcome_line(o)) }, None => { (a.message) } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(markup.into_string())
}

fn confirm(view: &View<'_>, all: &[DeadLetter]) -> Markup {
    let q = view.q;
    match q.confirm.as_deref() {
        Some("retry") | Some("discard") => {
            let Some(id) = q.entry.as_deref().and_then(parse_id) else {
                return html! {};
            };
            let retry = q.confirm.as_deref() == Some("retry");
            let consumer = all
                .iter()
                .find(|e| e.id == id)
                .map(|e| e.consumer.as_str())
                .unwrap_or("its consumer");
            let action = format!("/entries/{id}/{}", if retry { "retry" } else { "discard" });
            html! {
                section #confirm {
                    @if retry {
                        p { "Retry " strong { (id) } "? Its original bytes go back to " strong { (consumer) } "'s queue as a first delivery, decoded against the consumer's current contract." }
                    } @else {
                        p { "Discard " strong { (id) } " for good? The event is deleted and cannot be retried." }
                    }
                    form method="post" action=(action) {
                        (view.back())
                        button.danger[!retry] #confirm-button type="submit" {
                            @if retry { "Retry " (id) } @else { "Discard " (id) }
                        }
                        " "
                        a href=(view.link(&[("entry", Some(&id.to_string()))])) { "Cancel" }
                    }
                }
            }
        }
        Some("bulk") => {
            let Some(event_type) = nonempty(q.bulk_type.clone()) else {
                return html! {};
            };
            let scope = DeadLetterFilter {
                consumer: nonempty(q.bulk_consumer.clone()),
                event_type: Some(event_type.clone()),
            };
            let n = all.iter().filter(|e| scope.matches(e)).count();
            html! {
                section #confirm {
                    p {
                        "Retry all " strong { (n) } " entries of " strong { (event_type) }
                        @if let Some(c) = &scope.consumer { " for " strong { (c) } } @else { " for every consumer" }
                        "? Each goes back to its consumer's queue; those that fail again come back here."
                    }
                    form method="post" action="/retry" {
                        (view.back())
                        input type="hidden" name="type" value=(event_type);
                        @if let Some(c) = &scope.consumer { input type="hidden" name="consumer" value=(c); }
                        button #confirm-button type="submit" { "Retry " (n) " entries" }
                        " "
                        a href=(view.link(&[])) { "Cancel" }
                    }
                }
            }
        }
        _ => html! {},
    }
}

fn detail(view: &View<'_>, e: &DeadLetter) -> Markup {
    let (json, text) = decoded(&e.payload);
    let id = e.id.to_string();
    let field = |name: &str, value: Option<String>| {
        html! { dt { (name) } dd { (value.unwrap_or_else(|| "-".to_owned())) } }
    };
    html! {
        section #entry data-id=(id) {
            h2 { "Entry " (e.id) }
            div.entry-actions {
                a.button href=(view.link(&[("entry", Some(&id)), ("confirm", Some("retry"))])) #retry { "Retry…" }
                " "
                a.button.danger href=(view.link(&[("entry", Some(&id)), ("confirm", Some("discard"))])) #discard { "Discard…" }
            }
            dl {
                (field("Consumer", Some(e.consumer.clone())))
                (field("Event type", e.event_type.clone()))
                (field("Version", e.version.map(|v| v.to_string())))
                (field("Event id", e.event_id.clone()))
                (field("Tenant", e.tenant_id.clone()))
                (field("Partition key", e.partition_key.clone()))
                dt { "Class" } dd #class { (crate::class_name(e.class)) }
                dt { "Attempts" } dd #attempts { (e.attempts) }
                dt { "First failure" } dd #first-failure { (rfc3339(e.first_failure)) }
                dt { "Last failure" } dd #last-failure { (rfc3339(e.last_failure)) }
            }
            h3 { "Error" }
            pre #error { (e.error) }
            h3 { "Payload" @if !json { " (not JSON)" } }
            pre #payload { (text) }
            h3 { "Raw bytes (" (e.payload.len()) ")" }
            pre #raw { (hex_dump(&e.payload)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hex_dump_shows_offsets_bytes_and_printable_text() {
        let dump = hex_dump(b"{\"a\":1}\n<script>x");
        assert_eq!(
            dump,
            "00000000  7b 22 61 22 3a 31 7d 0a  3c 73 63 72 69 70 74 3e  |{\"a\":1}.<script>|\n\
             00000010  78                                                |x|\n"
        );
    }

    #[test]
    fn links_percent_encode_their_values() {
        assert_eq!(
            href(&[
                ("consumer", Some("a b&c")),
                ("type", None),
                ("entry", Some("dl_1"))
            ]),
            "/?consumer=a%20b%26c&entry=dl%5F1"
        );
    }
}
