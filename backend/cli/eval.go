package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"voicebot/backend/evaluate"
)

func evalCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Measure the conversation engine on benchmark data",
	}
	cmd.AddCommand(evalNLUCmd(), evalRetrievalCmd())
	return cmd
}

func evalNLUCmd() *cobra.Command {
	var trainPath, testPath, lang string
	var asJSON bool
	var shots int
	var seed uint64
	var vectors, spelling bool
	cmd := &cobra.Command{
		Use:   "nlu --train FILE --test FILE [--shots N --seed S] [--lang L] [--json]",
		Short: "Train the intent model on a CSV file (text,label[,lang]) and measure it on another",
		Long: `Train the intent model on one CSV file and report how it does on another.

Both files have a header with the columns text and label, and optionally lang. The label "oos"
marks out-of-scope rows: in training they form an out-of-scope class and calibrate the threshold;
in testing they must be predicted as out of scope. Progress goes to stderr; with --json, stdout
holds one JSON object: in_scope_accuracy and oos_recall (percent; oos_recall is null without oos
test rows), macro_f1, train_seconds, p50_us, p99_us, n_test, n_train, and unseen_labels (test
rows whose label no training row has, by label; they count as misses and are warned of).

--shots N trains on N rows of each intent drawn from the training file, the few phrasings an
operator writes; the draw is the same for the same --seed, and out-of-scope rows are not drawn
(operators write none), so the threshold alone must reject out-of-scope test rows.

The model is the engine's, with the built-in word vectors of the rows' language (English only
today; rows without a lang column count as English); --vectors=false measures it without. As
the engine does with a typed question, a test row's typing slips are put right against the
training rows' words (and English's word list) before the model reads it; --spelling=false
measures the model without. A
regional tag is read as its language ("en-US": English stems, stop words and vectors). Rows of
several languages are split by language, as a content pack is: each language's model is trained
on its own rows and measured on its own test rows, and the JSON has each language's figures under
"languages" beside the whole; --lang keeps one ("en" keeps "en-US" and "en-GB" too).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			train, err := evaluate.ReadIntentCSV(trainPath)
			if err != nil {
				return err
			}
			test, err := evaluate.ReadIntentCSV(testPath)
			if err != nil {
				return err
			}
			if shots < 0 {
				return fmt.Errorf("--shots must be 1 or more (0 trains on every row)")
			}
			if lang != "" && shots > 0 { // N rows of the language, not N rows before the filter
				train = evaluate.OfLanguage(train, lang)
			}
			train = evaluate.SampleShots(train, shots, seed)
			fmt.Fprintf(os.Stderr, "training on %d rows from %s\n", len(train), trainPath)
			res, err := evaluate.NLU(train, test, evaluate.NLUOptions{Lang: lang, NoVectors: !vectors, NoSpelling: !spelling, Progress: stderrProgress})
			if err != nil {
				return err
			}
			warnUnseen(res.UnseenLabels)
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
			}
			oos := "n/a"
			if res.OOSRecall != nil {
				oos = fmt.Sprintf("%.2f%%", *res.OOSRecall)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "in-scope accuracy %.2f%%  out-of-scope recall %s  macro F1 %.2f\ntrain %.2fs  classify p50 %.0fµs p99 %.0fµs  (%d test rows)\n",
				res.InScopeAccuracy, oos, res.MacroF1, res.TrainSeconds, res.P50us, res.P99us, res.NTest)
			langs := make([]string, 0, len(res.Languages))
			for l := range res.Languages {
				langs = append(langs, l)
			}
			sort.Strings(langs)
			for _, l := range langs {
				r := res.Languages[l]
				oos := "n/a"
				if r.OOSRecall != nil {
					oos = fmt.Sprintf("%.2f%%", *r.OOSRecall)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "  %s: in-scope accuracy %.2f%%  out-of-scope recall %s  macro F1 %.2f  (%d test rows, %d training rows)\n",
					l, r.InScopeAccuracy, oos, r.MacroF1, r.NTest, r.NTrain)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&trainPath, "train", "", "training CSV file (required)")
	cmd.Flags().StringVar(&testPath, "test", "", "test CSV file (required)")
	cmd.Flags().StringVar(&lang, "lang", "", "only rows of this language (when the files have a lang column)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object on stdout")
	cmd.Flags().IntVar(&shots, "shots", 0, "train on this many rows per intent drawn from --train, out-of-scope rows left out (0: every row)")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "seed of the --shots draw")
	cmd.Flags().BoolVar(&vectors, "vectors", true, "use the built-in word vectors of the rows' language, as the engine does (English; rows without a lang column are English)")
	cmd.Flags().BoolVar(&spelling, "spelling", true, "put typing slips right against the training rows' words before classifying, as the engine does with typed questions")
	_ = cmd.MarkFlagRequired("train")
	_ = cmd.MarkFlagRequired("test")
	return cmd
}

// warnUnseen tells on stderr of test rows whose label has no training rows (counted as
// misses): most often the two files spell a label differently.
func warnUnseen(unseen map[string]int) {
	if len(unseen) == 0 {
		return
	}
	labels := make([]string, 0, len(unseen))
	rows := 0
	for l, n := range unseen {
		labels = append(labels, fmt.Sprintf("%q (%d)", l, n))
		rows += n
	}
	sort.Strings(labels)
	if len(labels) > 10 {
		labels = append(labels[:10], "...")
	}
	fmt.Fprintf(os.Stderr, "warning: %d test rows have a label no training row of their language has, counted as misses: %s\n", rows, strings.Join(labels, ", "))
}

// stderrProgress shows the progress of long work on stderr, one line a stage step, so that
// stdout stays machine-readable.
func stderrProgress(stage string, done, total int) {
	fmt.Fprintf(os.Stderr, "%s: %d/%d\n", stage, done, total)
}

func evalRetrievalCmd() *cobra.Command {
	var corpus, queries, qrels, lang string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "retrieval --corpus corpus.jsonl --queries queries.jsonl --qrels qrels.tsv [--json]",
		Short: "Index a BEIR corpus with the knowledge index and measure its ranking",
		Long: `Index a corpus in BEIR's format with the knowledge index and rank it for every judged query.

With --json, stdout holds one JSON object: ndcg_at_10, recall_at_100, mrr_at_10, index_seconds,
p50_us and p99_us (per query). Progress goes to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			docs, err := evaluate.ReadBEIRCorpus(corpus, lang)
			if err != nil {
				return err
			}
			qs, err := evaluate.ReadBEIRQueries(queries)
			if err != nil {
				return err
			}
			rels, err := evaluate.ReadQrels(qrels)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "indexing %d documents from %s\n", len(docs), corpus)
			res, err := evaluate.Retrieval(docs, qs, rels, lang, stderrProgress)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "nDCG@10 %.4f  recall@100 %.4f  MRR@10 %.4f\nindex %.2fs  query p50 %.0fµs p99 %.0fµs  (%d queries, %d passages)\n",
				res.NDCGAt10, res.RecallAt100, res.MRRAt10, res.IndexSeconds, res.P50us, res.P99us, res.NQueries, res.NPassages)
			return nil
		},
	}
	cmd.Flags().StringVar(&corpus, "corpus", "", "corpus.jsonl (required)")
	cmd.Flags().StringVar(&queries, "queries", "", "queries.jsonl (required)")
	cmd.Flags().StringVar(&qrels, "qrels", "", "qrels .tsv file (required)")
	cmd.Flags().StringVar(&lang, "lang", "en", "language of the corpus and queries (stemming and stop words)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object on stdout")
	for _, f := range []string{"corpus", "queries", "qrels"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}
