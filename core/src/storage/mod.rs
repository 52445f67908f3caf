//! Storage behind a small synchronous trait: in memory here, on files in the server.
