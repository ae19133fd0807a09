use event_runtime::OpenEnum;

#[derive(OpenEnum)]
pub enum Tier {
    Free,
    #[event(rename = "free")]
    Gratis,
    #[event(other)]
    Other(String),
}

fn main() {}
