package org.segloss.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link CpuLossBenchmark} and prints a Markdown table of each loss's forward and forward+backward
 * time next to the floor (the vector stream read of the same bytes), with the ratios. Arguments, all
 * optional: {@code --workloads binary:bce,multiclass:ce} (default: all), {@code --kernels vector,scalar}
 * (default: vector), {@code --quick} (2 warm-up and 3 measured iterations of 0.5 s).
 *
 * <pre>
 * mvn -q -B test-compile exec:exec -Dexec.executable=java -Dexec.classpathScope=test \
 *   -Dexec.args="--add-modules jdk.incubator.vector -cp %classpath org.segloss.bench.BenchMain --kernels vector,scalar"
 * </pre>
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) throws RunnerException {
        String workloads = null;
        String kernels = "vector";
        boolean quick = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--workloads":
                    workloads = args[++i];
                    break;
                case "--kernels":
                    kernels = args[++i];
                    break;
                case "--quick":
                    quick = true;
                    break;
                default:
                    throw new IllegalArgumentException("unknown argument " + args[i]
                            + " (allowed: --workloads LIST, --kernels LIST, --quick)");
            }
        }
        ChainedOptionsBuilder opt = new OptionsBuilder()
                .include(CpuLossBenchmark.class.getName() + "\\.")
                .param("kernels", kernels.split(","));
        if (workloads != null) {
            opt.param("workload", workloads.split(","));
        }
        if (quick) {
            opt.warmupIterations(2).warmupTime(TimeValue.milliseconds(500))
                    .measurementIterations(3).measurementTime(TimeValue.milliseconds(500));
        }
        Collection<RunResult> results = new Runner(opt.build()).run();
        print(results);
    }

    private static void print(Collection<RunResult> results) {
        Map<String, Double> ms = new LinkedHashMap<>();
        List<String> rows = new ArrayList<>();
        for (RunResult r : results) {
            String method = r.getParams().getBenchmark().replaceAll(".*\\.", "");
            String workload = r.getParams().getParam("workload");
            String kernels = r.getParams().getParam("kernels");
            String row = workload + "|" + kernels;
            ms.put(row + "|" + method, r.getPrimaryResult().getScore());
            if (!rows.contains(row)) {
                rows.add(row);
            }
        }
        System.out.println();
        System.out.println("| workload | kernels | floor ms | forward ms | forward / floor | fwd+bwd ms | fwd+bwd / floor |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (String row : rows) {
            String[] p = row.split("\\|");
            // The floor does not depend on the kernels parameter: take the vector run's where there is one.
            Double floor = ms.getOrDefault(p[0] + "|vector|floor", ms.get(row + "|floor"));
            Double fwd = ms.get(row + "|forward");
            Double fb = ms.get(row + "|forwardBackward");
            System.out.println(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |", p[0], p[1],
                    fmt(floor), fmt(fwd), ratio(fwd, floor), fmt(fb), ratio(fb, floor)));
        }
    }

    private static String fmt(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String ratio(Double v, Double floor) {
        return v == null || floor == null ? "-" : String.format(Locale.ROOT, "%.2fx", v / floor);
    }
}
