package org.segloss.cli;

import java.io.InputStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code segloss} command line. Exit codes: 0 success, 2 usage error or refused input (one
 * {@code error:} line on stderr), 1 device failure or internal error.
 */
@Command(name = "segloss", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Segmentation losses and their gradients on OpenCL, CUDA and the CPU.",
        footer = {"", "Run 'segloss demo' for a tour, 'segloss COMMAND --help' for a command's options."})
public final class Main implements java.util.concurrent.Callable<Integer> {
    /** Exit code of a usage error or a refused input. */
    static final int EXIT_USAGE = 2;
    /** Exit code of a device runtime failure or an internal error. */
    static final int EXIT_FAILURE = 1;

    @Spec
    CommandSpec spec;

    /**
     * Every subcommand, registered here and only here. Each entry is a fresh command object
     * (picocli keeps option state in it).
     */
    static List<Object> subcommands() {
        return List.of(new InfoCommand(), new LossCommand(), new BenchCommand(), new DemoCommand(),
                new org.segloss.score.ScoreCommand(), new org.segloss.score.MergeCommand());
    }

    /** A configured command line: subcommands, error handlers, output to {@code out} and {@code err}. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        for (Object sub : subcommands()) {
            cl.addSubcommand(sub);
        }
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        ErrorHandlers handlers = new ErrorHandlers();
        cl.setParameterExceptionHandler(handlers);
        cl.setExecutionExceptionHandler(handlers);
        cl.setExecutionStrategy(ErrorHandlers::runWithoutOutOfMemoryErrors);
        return cl;
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code = commandLine(out, err).execute(args);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** {@code segloss} alone is a usage error: the usage goes to stderr and the exit code is 2. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return EXIT_USAGE;
    }

    /** The version from the jar's Maven descriptor, or "development build" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws Exception {
            String version = "development build";
            try (InputStream in = Main.class.getResourceAsStream("/META-INF/maven/org.segloss/segloss/pom.properties")) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    version = p.getProperty("version", version);
                }
            }
            return new String[] {"segloss " + version,
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
