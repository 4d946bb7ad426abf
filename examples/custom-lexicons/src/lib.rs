//! Bindings for this example's own lexicons (`com.example.todo.*`), generated
//! by `build.rs` with [`atlex_codegen::Builder`](https://docs.rs/atlex-codegen).

include!(concat!(env!("OUT_DIR"), "/atlex.rs"));
