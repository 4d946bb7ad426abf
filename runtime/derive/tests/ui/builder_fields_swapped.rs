#[derive(atlex::rt::Object)]
pub struct Note {
    pub title: String,
    pub body: String,
}

fn main() {
    // The positional constructor of earlier versions is gone: no `new` to
    // pass the body as the title to.
    let _ = Note::new("the body", "A title");
}
