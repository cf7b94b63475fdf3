package history

// rebind turns a query written with ? placeholders into the placeholders of the journal's
// database. SQLite takes ? as written; the PostgreSQL backend replaces this with its $n form.
func (j *Journal) rebind(q string) string { return q }
