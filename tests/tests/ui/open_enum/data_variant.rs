use event_runtime::OpenEnum;

#[derive(OpenEnum)]
pub enum Tier {
    Free,
    Pro { seats: u32 },
    #[event(other)]
    Other(u32),
}

fn main() {}
