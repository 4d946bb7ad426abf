#[derive(atlex::rt::Object)]
pub struct Note {
    pub title: String,
    pub body: String,
}

fn main() {
    let _ = Note::builder().title("A title").build();
}
