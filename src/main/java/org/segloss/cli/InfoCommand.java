package org.segloss.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.List;
import org.segloss.backend.Dispatcher;
import org.segloss.backend.Probe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code segloss info}: every backend, usable or not and why, and what auto picks. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = {"Show the backends, which one auto picks, and why others are not usable.",
                "Each backend is probed as auto would use it and as when asked for by name (OpenCL CPU devices",
                "such as PoCL only by name). Also shows the Java version and whether the Vector API is enabled."})
final class InfoCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Mixin
    DebugOption debugOption;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    static boolean vectorApiEnabled() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        List<Probe> auto = Dispatcher.probeAll(true);
        List<Probe> explicit = Dispatcher.probeAll(false);
        String choice = Dispatcher.autoChoice();
        String requested = Dispatcher.requested(null);
        String java = System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")";
        boolean vector = vectorApiEnabled();
        if (json) {
            ObjectNode root = Json.object();
            root.put("java", java);
            root.put("processors", Runtime.getRuntime().availableProcessors());
            root.put("vector_api", vector);
            root.put("auto", choice);
            root.put("requested", requested);
            ArrayNode backends = root.putArray("backends");
            for (int i = 0; i < auto.size(); i++) {
                ObjectNode b = backends.addObject();
                b.put("name", auto.get(i).backend());
                b.put("auto_pick", auto.get(i).backend().equals(choice));
                probeJson(b.putObject("auto"), auto.get(i));
                probeJson(b.putObject("explicit"), explicit.get(i));
            }
            out.println(Json.write(root));
            out.flush();
            return;
        }
        out.println("Java        " + java + ", " + Runtime.getRuntime().availableProcessors() + " processors");
        out.println("Vector API  " + (vector ? "enabled (jdk.incubator.vector)"
                : "not enabled: CPU kernels are scalar (run with --add-modules jdk.incubator.vector, as ./segloss does)"));
        out.println("auto picks  " + choice + (requested.equals("auto") ? ""
                : "   (but segloss.backend / SEGLOSS_BACKEND asks for " + requested + ")"));
        out.println();
        for (int i = 0; i < auto.size(); i++) {
            Probe a = auto.get(i);
            Probe e = explicit.get(i);
            String mark = a.backend().equals(choice) ? "   <- auto" : "";
            if (a.usable() == e.usable() && a.device().equals(e.device()) && a.reason().equals(e.reason())) {
                // the backend, its state and (when not usable) the reason on one line
                out.printf("%-7s %s%s%n", a.backend(), line(e), mark);
            } else {
                out.printf("%-7s %s%s%n", a.backend(), line(e), mark);
                out.println("        for auto:    " + line(a));
                out.println("        by name:     " + line(e));
            }
            for (String d : mergedDetails(a, e)) {
                out.println("          " + d);
            }
        }
        out.flush();
    }

    private static List<String> mergedDetails(Probe a, Probe e) {
        if (a.details().equals(e.details()) || a.details().isEmpty()) {
            return e.details();
        }
        java.util.List<String> all = new java.util.ArrayList<>(a.details());
        for (String d : e.details()) {
            if (!all.contains(d)) {
                all.add(d);
            }
        }
        return all;
    }

    private static String line(Probe p) {
        return p.usable() ? "usable, " + p.device() : "not usable: " + p.reason();
    }

    private static void probeJson(ObjectNode node, Probe p) {
        node.put("usable", p.usable());
        if (p.usable()) {
            node.put("device", p.device());
            node.putNull("reason");
        } else {
            node.putNull("device");
            node.put("reason", p.reason());
        }
        ArrayNode details = node.putArray("details");
        p.details().forEach(details::add);
    }
}
