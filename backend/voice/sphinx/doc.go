// Package sphinx is the built-in speech recognizer: pocketsphinx (through cgo, linked
// statically) with Debian's en-us acoustic model and pronunciation dictionary, constrained by
// the content. On every content reload it compiles a grammar of the sentences visitors are
// expected to say (intent phrasings, and templates with every value of their slot lists) as
// a minimal word graph in pocketsphinx's FSG form (fsg.go) and a bigram language model of
// those and the knowledge documents; a recording is decoded with the grammar first (exact and
// fast for expected questions) and with the language model when the grammar finds nothing.
// Spanish is heard with the same English acoustic model: the content's Spanish words are
// pronounced by espeak-ng and mapped onto the model's phones (spanish.go), and decoded against
// the Spanish grammar on decoders of their own; Spanish has no free readings.
// Builds without cgo have the pure-Go parts (the grammar, the language model, the phone
// mapping) and no built-in recognizer.
package sphinx
