package org.segloss.spark;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.segloss.ConfusionCounts;
import org.segloss.score.ScoreParts;

/**
 * {@code segloss score} as a Spark job. The driver lists the prediction and target locations with
 * the Hadoop filesystem of the session's configuration (local, HDFS, S3, ...) and pairs files by
 * stem exactly as {@code segloss score} does; each task opens its pairs' files, decodes and counts
 * them with segloss's scoring code (label maps on the host, per-class scores on the engine the
 * executor's dispatcher picks: a GPU when it has one, else the CPU) and the partitions' integer
 * counts are added by a functional {@code treeReduce}. A retried or speculative task therefore
 * replaces its failed attempt instead of adding to it, which a side-effecting accumulator would not
 * guarantee.
 *
 * <pre>{@code
 * ScoreParts.Options o = new ScoreParts.Options();
 * o.ignoreIndex = 255;
 * SparkScoring.Result r = SparkScoring.score(spark, "s3a://bucket/preds", "s3a://bucket/gt", o);
 * System.out.print(r.report("table", null, false));
 * r.perImage().write().parquet("s3a://bucket/per-image.parquet");
 * }</pre>
 */
public final class SparkScoring {
    private SparkScoring() {
    }

    /** One pair as shipped to a task: names as {@code segloss score} reports them, and locations. */
    static final class PairTask implements Serializable {
        private static final long serialVersionUID = 1L;
        final String predName;
        final String targetName;
        final String predUri;
        final String targetUri;

        PairTask(String predName, String targetName, String predUri, String targetUri) {
            this.predName = predName;
            this.targetName = targetName;
            this.predUri = predUri;
            this.targetUri = targetUri;
        }
    }

    /** One pair's outcome and the partition that computed it. */
    static final class Scored implements Serializable {
        private static final long serialVersionUID = 1L;
        final int partition;
        final ScoreParts.ImageResult result;

        Scored(int partition, ScoreParts.ImageResult result) {
            this.partition = partition;
            this.result = result;
        }
    }

    /** What partitions reduce to: the mergeable counts, and where each partition counted. */
    static final class Summary implements Serializable {
        private static final long serialVersionUID = 1L;
        final ScoreParts.Partial partial;
        final TreeMap<Integer, String> countedOn;

        Summary(ScoreParts.Partial partial, TreeMap<Integer, String> countedOn) {
            this.partial = partial;
            this.countedOn = countedOn;
        }

        Summary merge(Summary other) {
            TreeMap<Integer, String> c = new TreeMap<>(countedOn);
            c.putAll(other.countedOn);
            return new Summary(partial.merge(other.partial), c);
        }
    }

    /** The report data of a run, the per-image rows, and where each partition counted. */
    public static final class Result {
        private final ScoreParts.Partial total;
        private final SortedMap<Integer, String> countedOn;
        private final Dataset<Row> perImage;
        private final JavaRDD<Scored> cached;
        private final int pairs;
        private final int partitions;
        private final int otherFiles;
        private final boolean classesInferred;
        private final Integer ignoreIndex;

        Result(ScoreParts.Partial total, SortedMap<Integer, String> countedOn, Dataset<Row> perImage, JavaRDD<Scored> cached,
               int pairs, int partitions, int otherFiles, ScoreParts.Options options) {
            this.total = total;
            this.countedOn = Collections.unmodifiableSortedMap(countedOn);
            this.perImage = perImage;
            this.cached = cached;
            this.pairs = pairs;
            this.partitions = partitions;
            this.otherFiles = otherFiles;
            this.classesInferred = options.classes == null;
            this.ignoreIndex = options.ignoreIndex;
        }

        /** The mergeable totals (counts, images, histogram, worst, skipped), as a {@code --save-stats} file holds. */
        public ScoreParts.Partial total() {
            return total;
        }

        public long images() {
            return total.images();
        }

        public int classes() {
            return total.classes();
        }

        /** Per-class TP, FP, FN, TN summed over every scored image. */
        public ConfusionCounts counts() {
            return total.total();
        }

        /** Files left out (unpaired, unreadable, corrupt, ...) with the reason, sorted by file. */
        public List<ScoreParts.Skipped> skipped() {
            return total.skipped();
        }

        /** Pairs handed to the executors, and the partitions they were split into. */
        public int pairs() {
            return pairs;
        }

        public int partitions() {
            return partitions;
        }

        /** Files below the directories that are not .png, .npy, .nii or .nii.gz (left out, as score does). */
        public int otherFiles() {
            return otherFiles;
        }

        /**
         * Per partition, where its images were counted: {@code host} (label maps), the engine's
         * backend name ({@code cpu}, {@code opencl}, {@code cuda}) for per-class scores, both joined
         * by {@code +}, or {@code none} when it scored no image.
         */
        public SortedMap<Integer, String> countedOnByPartition() {
            return countedOn;
        }

        /**
         * One row per scored image: {@code file}, {@code pred}, {@code target}, {@code mean_dice},
         * {@code mean_iou} (null when no class is defined in the image), per-class {@code tp fp fn tn}
         * arrays (over all {@link #classes()}), {@code counted_on} and {@code partition}. Backed by
         * the cached task results: writing it does not decode the files again.
         */
        public Dataset<Row> perImage() {
            return perImage;
        }

        /** The table's first line. */
        public String header() {
            TreeSet<String> engines = new TreeSet<>();
            for (String s : countedOn.values()) {
                for (String b : s.split("\\+")) {
                    if (!b.equals("host") && !b.equals("none")) {
                        engines.add(b);
                    }
                }
            }
            return "segloss score (spark, " + partitions + " partitions): " + images() + " images, " + classes() + " classes"
                    + (classesInferred ? " (inferred)" : "")
                    + (ignoreIndex == null ? "" : ", ignore index " + ignoreIndex)
                    + (engines.isEmpty() ? "" : ", score predictions counted on " + String.join("+", engines))
                    + ", " + skipped().size() + " skipped";
        }

        /** The report of {@code segloss score}: {@code table}, {@code json} or {@code csv}. */
        public String report(String format, List<String> classNames, boolean withWorst) throws IOException {
            return total.report(format.toLowerCase(Locale.ROOT), classNames, withWorst, header());
        }

        /** Frees the cached task results (the per-image rows are computed again if used after). */
        public void unpersist() {
            cached.unpersist(false);
        }
    }

    /** Scores with as many partitions as four per default-parallelism slot (at most one per pair). */
    public static Result score(SparkSession spark, String pred, String target, ScoreParts.Options options) throws IOException {
        return score(spark, pred, target, options, 0);
    }

    /**
     * Scores predictions against targets. {@code pred} and {@code target} are two directories
     * (files below them paired by relative path without extension) or two files, on any filesystem
     * the session's Hadoop configuration reaches. {@code partitions <= 0} picks a default.
     *
     * @throws IllegalArgumentException for a missing location, a directory paired with a file,
     *                                  or an option {@code segloss score} refuses
     */
    public static Result score(SparkSession spark, String pred, String target, ScoreParts.Options options, int partitions)
            throws IOException {
        options.check();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration conf = jsc.hadoopConfiguration();
        Listing listing = Listing.of(conf, pred, target);
        int slices = partitions > 0 ? partitions : Math.max(1, jsc.defaultParallelism() * 4);
        slices = Math.max(1, Math.min(slices, listing.tasks.size()));
        Broadcast<HadoopConf> hadoop = jsc.broadcast(new HadoopConf(conf));
        JavaRDD<Scored> scored = jsc.parallelize(listing.tasks, slices)
                .mapPartitionsWithIndex((index, tasks) -> scorePartition(index, tasks, options, hadoop), true)
                .persist(StorageLevel.MEMORY_AND_DISK());
        Summary summary = scored.mapPartitionsWithIndex((index, results) -> summarize(index, results, options), true)
                .treeReduce(Summary::merge);
        ScoreParts.Partial total = summary.partial.merge(
                ScoreParts.Partial.of(options, Collections.emptyIterator(), listing.unpaired));
        int classes = total.classes();
        JavaRDD<Row> rows = scored.filter(s -> s.result.skipped == null).map(s -> row(s, classes));
        Dataset<Row> perImage = spark.createDataFrame(rows, PER_IMAGE_SCHEMA);
        return new Result(total, summary.countedOn, perImage, scored, listing.tasks.size(), slices, listing.otherFiles, options);
    }

    static final StructType PER_IMAGE_SCHEMA = new StructType()
            .add("file", DataTypes.StringType, false)
            .add("pred", DataTypes.StringType, false)
            .add("target", DataTypes.StringType, false)
            .add("mean_dice", DataTypes.DoubleType, true)
            .add("mean_iou", DataTypes.DoubleType, true)
            .add("tp", DataTypes.createArrayType(DataTypes.LongType, false), false)
            .add("fp", DataTypes.createArrayType(DataTypes.LongType, false), false)
            .add("fn", DataTypes.createArrayType(DataTypes.LongType, false), false)
            .add("tn", DataTypes.createArrayType(DataTypes.LongType, false), false)
            .add("counted_on", DataTypes.StringType, false)
            .add("partition", DataTypes.IntegerType, false);

    private static Row row(Scored s, int classes) {
        ScoreParts.ImageResult r = s.result;
        ConfusionCounts k = r.counts(classes);
        double dice = k.meanDice();
        double iou = k.meanIou();
        long[][] cols = new long[4][classes];
        for (int c = 0; c < classes; c++) {
            cols[0][c] = k.tp(c);
            cols[1][c] = k.fp(c);
            cols[2][c] = k.fn(c);
            cols[3][c] = k.tn(c);
        }
        return RowFactory.create(r.file, r.predPath, r.targetPath, Double.isNaN(dice) ? null : dice,
                Double.isNaN(iou) ? null : iou, cols[0], cols[1], cols[2], cols[3], r.countedOn, s.partition);
    }

    /** Runs in a task: reads, decodes and counts the partition's pairs. */
    static Iterator<Scored> scorePartition(int partition, Iterator<PairTask> tasks, ScoreParts.Options options,
                                           Broadcast<HadoopConf> hadoop) {
        Configuration conf = hadoop.value().get();
        Map<String, FileSystem> filesystems = new HashMap<>();
        List<Scored> out = new ArrayList<>();
        try (ScoreParts.PairScorer scorer = new ScoreParts.PairScorer(options)) {
            while (tasks.hasNext()) {
                PairTask t = tasks.next();
                out.add(new Scored(partition, scorer.score(t.predName, t.targetName, shown(t.predUri), shown(t.targetUri),
                        () -> readAll(t.predUri, conf, filesystems), () -> readAll(t.targetUri, conf, filesystems))));
            }
        }
        return out.iterator();
    }

    /**
     * Where a file is, as per-image rows and stats files record it: a local file by its absolute path
     * (as {@code segloss score} records it, so {@code segloss merge --report} can draw it), else its URI.
     */
    static String shown(String uri) {
        Path p = new Path(uri);
        return "file".equals(p.toUri().getScheme()) ? p.toUri().getPath() : uri;
    }

    private static byte[] readAll(String uri, Configuration conf, Map<String, FileSystem> filesystems) throws IOException {
        Path p = new Path(uri);
        String key = p.toUri().getScheme() + "://" + p.toUri().getAuthority();
        FileSystem fs = filesystems.get(key);
        if (fs == null) {
            fs = p.getFileSystem(conf);
            filesystems.put(key, fs);
        }
        try (FSDataInputStream in = fs.open(p)) {
            return in.readAllBytes();
        }
    }

    /** Runs in a task: one partition's results as one mergeable summary. */
    static Iterator<Summary> summarize(int partition, Iterator<Scored> results, ScoreParts.Options options) {
        TreeSet<String> where = new TreeSet<>();
        List<ScoreParts.ImageResult> all = new ArrayList<>();
        while (results.hasNext()) {
            ScoreParts.ImageResult r = results.next().result;
            all.add(r);
            if (r.countedOn != null) {
                where.add(r.countedOn);
            }
        }
        TreeMap<Integer, String> countedOn = new TreeMap<>();
        countedOn.put(partition, where.isEmpty() ? "none" : String.join("+", where));
        return Collections.singletonList(new Summary(ScoreParts.Partial.of(options, all.iterator(), List.of()), countedOn))
                .iterator();
    }

    /** The driver's listing: pairs to score, files left out, other files. */
    static final class Listing {
        final List<PairTask> tasks = new ArrayList<>();
        final List<ScoreParts.Skipped> unpaired = new ArrayList<>();
        int otherFiles;

        static Listing of(Configuration conf, String pred, String target) throws IOException {
            Path predPath = new Path(pred);
            Path targetPath = new Path(target);
            FileSystem predFs = predPath.getFileSystem(conf);
            FileSystem targetFs = targetPath.getFileSystem(conf);
            if (!predFs.exists(predPath)) {
                throw new IllegalArgumentException("--pred " + pred + ": no such file or directory");
            }
            if (!targetFs.exists(targetPath)) {
                throw new IllegalArgumentException("--target " + target + ": no such file or directory");
            }
            boolean predDir = predFs.getFileStatus(predPath).isDirectory();
            boolean targetDir = targetFs.getFileStatus(targetPath).isDirectory();
            if (predDir != targetDir) {
                throw new IllegalArgumentException("--target " + target + " must be a " + (predDir ? "directory" : "file")
                        + " like --pred " + pred + ", was a " + (targetDir ? "directory" : "file"));
            }
            Listing out = new Listing();
            if (!predDir) {
                for (String f : new String[] {pred, target}) {
                    if (!ScoreParts.scorable(new Path(f).getName())) {
                        throw new IllegalArgumentException((f.equals(pred) ? "--pred " : "--target ") + f
                                + " must be a .png, .npy, .nii or .nii.gz file");
                    }
                }
                out.tasks.add(new PairTask(pred, target, predFs.makeQualified(predPath).toString(),
                        targetFs.makeQualified(targetPath).toString()));
                return out;
            }
            Map<String, String> where = new HashMap<>();
            TreeMap<String, List<String>> p = out.index(predFs, predPath, pred, where);
            TreeMap<String, List<String>> t = out.index(targetFs, targetPath, target, where);
            ScoreParts.Pairs pairs = ScoreParts.pairByStem(p, t);
            for (ScoreParts.FilePair fp : pairs.pairs) {
                out.tasks.add(new PairTask(fp.pred, fp.target, where.get(fp.pred), where.get(fp.target)));
            }
            out.unpaired.addAll(pairs.unpaired);
            return out;
        }

        /**
         * Every file below {@code dir}, keyed by stem; the names are {@code shown/relative/path} (as
         * score names them when given {@code shown}), {@code where} maps each name to its location.
         */
        private TreeMap<String, List<String>> index(FileSystem fs, Path dir, String shown, Map<String, String> where)
                throws IOException {
            String base = fs.makeQualified(dir).toUri().getPath();
            String prefix = base.endsWith("/") ? base : base + "/";
            String shownPrefix = shown.endsWith("/") ? shown : shown + "/";
            TreeMap<String, List<String>> m = new TreeMap<>();
            // listStatus, not listFiles: LocatedFileStatus reads every file's owner and permissions, which
            // the local filesystem does by running a process per file.
            ArrayDeque<Path> dirs = new ArrayDeque<>();
            dirs.add(dir);
            while (!dirs.isEmpty()) {
                for (FileStatus st : fs.listStatus(dirs.poll())) {
                    if (st.isDirectory()) {
                        dirs.add(st.getPath());
                        continue;
                    }
                    if (!st.isFile()) {
                        continue;
                    }
                    String path = st.getPath().toUri().getPath();
                    if (!path.startsWith(prefix)) {
                        throw new IOException("listing " + dir + " returned " + st.getPath() + ", which is not below it");
                    }
                    if (!ScoreParts.scorable(st.getPath().getName())) {
                        otherFiles++;
                        continue;
                    }
                    String rel = path.substring(prefix.length());
                    String name = shownPrefix + rel;
                    m.computeIfAbsent(ScoreParts.stem(rel), k -> new ArrayList<>()).add(name);
                    where.put(name, st.getPath().toString());
                }
            }
            for (List<String> l : m.values()) {
                Collections.sort(l);
            }
            return m;
        }
    }
}
