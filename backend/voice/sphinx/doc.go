// Package sphinx is the built-in speech recognizer: pocketsphinx (through cgo, linked
// statically) with Debian's en-us acoustic model and pronunciation dictionary, constrained by
// the content. On every content reload it compiles a grammar of the sentences visitors are
// expected to say (intent phrasings, and templates with every value of their slot lists) as
// a minimal word graph in pocketsphinx's FSG form (fsg.go) and a bigram language model of
// those and the knowledge documents; a recording is decoded with the grammar first (exact and
// fast for expected questions) and with the language model when the grammar finds nothing.
// Builds without cgo have no files here but this one, and no built-in recognizer.
package sphinx
