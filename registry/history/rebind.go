package history

// rebind turns a query written with ? placeholders into the database's own; SQLite takes them
// as they are. (The PostgreSQL journal, when there is one, numbers them $1, $2, ….)
func (j *Journal) rebind(q string) string { return q }
