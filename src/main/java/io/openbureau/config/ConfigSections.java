package io.openbureau.config;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Function;

/**
 * The feature sections of the configuration ({@code inquiry}, {@code audit}, {@code compliance}, ...),
 * each read and validated by its feature's own settings class. {@link BureauConfig#from} runs every
 * one of them at load, so their problems are reported with the others, before anything starts, and
 * the keys they read are the known keys ({@link ConfigSchema}).
 *
 * <p>The list lives outside this package (io.openbureau.FeatureSections, found with
 * {@link ServiceLoader}) so the configuration does not depend on every feature: adding a section is
 * one line there, {@code PagesSettings::from}, a function that reads its keys with a
 * {@link Reader} and throws {@link ConfigException} listing its problems.
 */
public interface ConfigSections {

  /** Each section's reader: takes the configuration, returns its settings or throws {@link ConfigException}. */
  List<Function<BureauConfig, ?>> sections();

  /** Every registered section (of every provider on the class path). */
  static List<Function<BureauConfig, ?>> all() {
    return Loaded.ALL;
  }

  /** Loaded once. */
  final class Loaded {
    private static final List<Function<BureauConfig, ?>> ALL = load();

    private Loaded() {
    }

    private static List<Function<BureauConfig, ?>> load() {
      List<Function<BureauConfig, ?>> all = new ArrayList<>();
      for (ConfigSections provider : ServiceLoader.load(ConfigSections.class, ConfigSections.class.getClassLoader())) {
        all.addAll(provider.sections());
      }
      return List.copyOf(all);
    }
  }
}
