// Package espeak is the built-in speech synthesizer: espeak-ng through cgo, offline, in English
// and Spanish (and the other languages espeak-ng has), at 22,050 Hz. espeak-ng keeps global
// state, so syntheses run one at a time. Builds without cgo have no files here but this one.
package espeak
