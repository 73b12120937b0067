package io.openbureau;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.BusinessTime;
import io.openbureau.config.ConfigSections;

import java.util.List;
import java.util.function.Function;

/**
 * The configuration's feature sections, read and validated at load with the core keys (see
 * {@link ConfigSections}). A new section: one line here.
 */
public final class FeatureSections implements ConfigSections {
  @Override
  public List<Function<BureauConfig, ?>> sections() {
    return List.of(
      BusinessTime::from,
      io.openbureau.cache.CacheRepair::intervalMillis,
      io.openbureau.consent.ConsentSettings::from,
      io.openbureau.disputes.DisputeSettings::from,
      io.openbureau.inquiry.InquirySettings::from,
      io.openbureau.audit.AuditSettings::from,
      io.openbureau.compliance.ComplianceSettings::from,
      io.openbureau.compliance.WitnessSettings::from,
      io.openbureau.ageing.AgeingSettings::from,
      io.openbureau.reciprocity.ReciprocitySettings::from,
      io.openbureau.scoring.ScoringSettings::from,
      io.openbureau.notifications.NotificationSettings::from,
      io.openbureau.pages.PagesSettings::from);
  }
}
